package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.typesafe.config.ConfigFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes is read as Kubernetes would read it, and checked against itself and against
 * the code: one Deployment per role, labels that select what they mean to, ports and probes that
 * exist, a cluster config that Hazelcast parses and that finds the headless Service, secrets and
 * environment variables that VoiceMesh actually reads, and the image Jib builds.
 */
@DisplayName("deploy/kubernetes")
class DeployManifestsTest {
  private static final Path DIR = Path.of("..", "deploy", "kubernetes");
  private static final List<JsonObject> DOCS = new ArrayList<>();

  @BeforeAll
  static void read() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : yaml.readerFor(Map.class).readValues(file.toFile()).readAll()) {
          JsonObject manifest = new JsonObject(yaml.convertValue(doc, Map.class)).put("_file", file.getFileName().toString());
          DOCS.add(manifest);
        }
      }
    }
  }

  @Test
  @DisplayName("kustomization.yaml lists every manifest but the example secrets; every object lives in the namespace")
  void kustomizationAndNamespace() {
    JsonObject kustomization = only("Kustomization", null);
    Set<String> listed = kustomization.getJsonArray("resources").stream().map(Object::toString).collect(Collectors.toSet());
    Set<String> files = DOCS.stream().map(d -> d.getString("_file"))
        .filter(f -> !f.equals("kustomization.yaml") && !f.equals("secrets.example.yaml")).collect(Collectors.toSet());
    assertEquals(files, listed);
    String namespace = only("Namespace", null).getJsonObject("metadata").getString("name");
    DOCS.stream().filter(d -> !Set.of("Namespace", "Kustomization").contains(d.getString("kind")))
        .forEach(d -> assertEquals(namespace, d.getJsonObject("metadata").getString("namespace"), d.encode()));
  }

  @Test
  @DisplayName("one Deployment per role runs `node --roles <role>`, selects its own pods, and has requests, ports and probes")
  void deploymentPerRole() {
    for (Role role : Role.values()) {
      JsonObject deployment = deployment(role);
      JsonObject spec = deployment.getJsonObject("spec");
      JsonObject podLabels = spec.getJsonObject("template").getJsonObject("metadata").getJsonObject("labels");
      assertTrue(matches(spec.getJsonObject("selector").getJsonObject("matchLabels"), podLabels), deployment.encode());
      assertEquals(role.id(), podLabels.getString("app.kubernetes.io/component"));
      JsonObject container = container(deployment);
      assertEquals(List.of("node", "--roles", role.id()), container.getJsonArray("args").getList());
      Map<String, Integer> ports = ports(container);
      assertEquals(Set.of("http", "hazelcast", "eventbus"), ports.keySet());
      Map<String, JsonObject> env = env(container);
      assertEquals(String.valueOf(ports.get("http")), env.get("VOICEMESH_PORT").getString("value"), "the node listens where the port says");
      assertEquals(String.valueOf(ports.get("eventbus")), env.get("VOICEMESH_EVENT_BUS_PORT").getString("value"));
      assertEquals("status.podIP", env.get("VOICEMESH_CLUSTER_HOST").getJsonObject("valueFrom").getJsonObject("fieldRef")
          .getString("fieldPath"), "the event bus announces the pod's address");
      JsonObject requests = container.getJsonObject("resources").getJsonObject("requests");
      assertNotNull(requests.getValue("cpu"), role + " requests CPU");
      assertNotNull(requests.getValue("memory"), role + " requests memory");
      assertNotNull(container.getJsonObject("resources").getJsonObject("limits").getValue("memory"), role + " has a memory limit");
      JsonObject readiness = container.getJsonObject("readinessProbe").getJsonObject("httpGet");
      JsonObject liveness = container.getJsonObject("livenessProbe").getJsonObject("httpGet");
      assertEquals("/health", readiness.getString("path"));
      assertEquals("/health/live", liveness.getString("path"));
      assertTrue(ports.containsKey(readiness.getString("port")) && ports.containsKey(liveness.getString("port")),
          "probes name a container port");
    }
  }

  @Test
  @DisplayName("the cluster config Hazelcast parses joins through the headless Service that selects every pod")
  void clusterDiscovery() throws IOException {
    JsonObject headless = service("voicemesh-hazelcast");
    assertEquals("None", headless.getJsonObject("spec").getString("clusterIP"));
    assertTrue(headless.getJsonObject("spec").getBoolean("publishNotReadyAddresses"), "nodes find each other before ready");
    JsonObject servicePort = headless.getJsonObject("spec").getJsonArray("ports").getJsonObject(0);
    for (Role role : Role.values()) {
      JsonObject deployment = deployment(role);
      assertTrue(matches(headless.getJsonObject("spec").getJsonObject("selector"), podLabels(deployment)), role.id());
      assertEquals(servicePort.getInteger("port"), ports(container(deployment)).get(servicePort.getString("targetPort")));
    }
    // Every pod mounts the ConfigMap where VOICEMESH_CLUSTER_CONFIG points.
    JsonObject configMap = only("ConfigMap", "voicemesh-cluster");
    for (Role role : Role.values()) {
      JsonObject deployment = deployment(role);
      JsonObject podSpec = deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec");
      String volume = podSpec.getJsonArray("volumes").stream().map(JsonObject.class::cast)
          .filter(v -> v.containsKey("configMap") && configMap.getJsonObject("metadata").getString("name")
              .equals(v.getJsonObject("configMap").getString("name")))
          .findFirst().orElseThrow(() -> new AssertionError(role + " mounts no cluster ConfigMap")).getString("name");
      String mountPath = container(deployment).getJsonArray("volumeMounts").stream().map(JsonObject.class::cast)
          .filter(m -> volume.equals(m.getString("name"))).findFirst().orElseThrow().getString("mountPath");
      String file = env(container(deployment)).get("VOICEMESH_CLUSTER_CONFIG").getString("value");
      assertEquals(mountPath + "/cluster.xml", file, role.id());
    }
    Config hazelcast = new InMemoryXmlConfig(configMap.getJsonObject("data").getString("cluster.xml"));
    JoinConfig join = hazelcast.getNetworkConfig().getJoin();
    assertTrue(join.getKubernetesConfig().isEnabled(), "Kubernetes discovery");
    assertFalse(join.getTcpIpConfig().isEnabled() || join.getMulticastConfig().isEnabled());
    String namespace = headless.getJsonObject("metadata").getString("namespace");
    assertEquals(headless.getJsonObject("metadata").getString("name") + "." + namespace + ".svc.cluster.local",
        join.getKubernetesConfig().getProperty("service-dns"));
    assertEquals(String.valueOf(servicePort.getInteger("port")), join.getKubernetesConfig().getProperty("service-port"));
    assertEquals(servicePort.getInteger("port"), hazelcast.getNetworkConfig().getPort(), "Hazelcast listens on the Service's port");
    // The same Vert.x maps and timing as the repository's cluster.xml; only discovery differs.
    Config local = new InMemoryXmlConfig(Files.readString(Path.of("..", "cluster.xml")));
    assertEquals(local.getClusterName(), hazelcast.getClusterName());
    assertEquals(local.getMultiMapConfig("__vertx.subs").getBackupCount(), hazelcast.getMultiMapConfig("__vertx.subs").getBackupCount());
    assertEquals(local.getMapConfig("__vertx.haInfo").getBackupCount(), hazelcast.getMapConfig("__vertx.haInfo").getBackupCount());
    for (String property : List.of("hazelcast.heartbeat.interval.seconds", "hazelcast.max.no.heartbeat.seconds",
        "hazelcast.merge.first.run.delay.seconds", "hazelcast.invocation.retry.pause.millis")) {
      assertEquals(local.getProperty(property), hazelcast.getProperty(property), property);
    }
  }

  @Test
  @DisplayName("the gateway Service reaches gateway pods only, on their HTTP port")
  void gatewayService() {
    JsonObject service = service("voicemesh-gateway");
    JsonObject selector = service.getJsonObject("spec").getJsonObject("selector");
    for (Role role : Role.values()) {
      assertEquals(role == Role.GATEWAY, matches(selector, podLabels(deployment(role))), role.id());
    }
    assertEquals("http", service.getJsonObject("spec").getJsonArray("ports").getJsonObject(0).getString("targetPort"));
  }

  @Test
  @DisplayName("every environment variable is one VoiceMesh reads, and every secret it names exists with that key")
  void environmentAndSecrets() throws IOException {
    String envConf = Files.readString(Path.of("src", "main", "resources", "env.conf"));
    Map<String, Set<String>> secrets = new HashMap<>();
    DOCS.stream().filter(d -> "Secret".equals(d.getString("kind"))).forEach(s -> secrets.put(
        s.getJsonObject("metadata").getString("name"), s.getJsonObject("stringData").fieldNames()));
    for (Role role : Role.values()) {
      env(container(deployment(role))).forEach((name, variable) -> {
        assertTrue(envConf.contains("${?" + name + "}"), name + " is read by env.conf");
        JsonObject secretRef = variable.containsKey("valueFrom")
            ? variable.getJsonObject("valueFrom").getJsonObject("secretKeyRef") : null;
        if (secretRef != null) {
          assertTrue(secrets.getOrDefault(secretRef.getString("name"), Set.of()).contains(secretRef.getString("key")),
              name + " refers to " + secretRef.encode());
        }
      });
    }
    assertTrue(env(container(deployment(Role.GATEWAY))).containsKey("VOICEMESH_JWT_SECRET"), "gateways share a JWT key");
    assertTrue(env(container(deployment(Role.SESSION))).containsKey("VOICEMESH_POSTGRES_URI"), "the session role has a database");
  }

  @Test
  @DisplayName("a stopping pod has time to drain: terminationGracePeriodSeconds covers the preStop pause, the "
      + "configured drain (VOICEMESH_DRAIN_MS, else reference.conf) and a margin to exit, and not much more")
  void gracePeriodMatchesTheDrain() {
    long defaultDrainMs = ConfigFactory.parseFile(Path.of("src", "main", "resources", "reference.conf").toFile())
        .getLong("voicemesh.drainMs");
    for (Role role : Role.values()) {
      JsonObject deployment = deployment(role);
      JsonObject container = container(deployment);
      JsonObject drainVariable = env(container).get("VOICEMESH_DRAIN_MS");
      long drainMs = drainVariable == null ? defaultDrainMs : Long.parseLong(drainVariable.getString("value"));
      long preStopMs = 0;
      JsonObject preStop = container.getJsonObject("lifecycle", new JsonObject()).getJsonObject("preStop");
      if (preStop != null) {
        List<Object> command = preStop.getJsonObject("exec").getJsonArray("command").getList();
        assertEquals("sleep", command.get(0), role + ": a preStop whose length is known");
        preStopMs = Long.parseLong(command.get(1).toString()) * 1000;
      }
      Object grace = deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec")
          .getValue("terminationGracePeriodSeconds");
      assertNotNull(grace, role + " sets terminationGracePeriodSeconds");
      long graceMs = ((Number) grace).longValue() * 1000;
      long needed = preStopMs + drainMs + EXIT_MARGIN_MS;
      assertTrue(graceMs >= needed, role + ": " + graceMs + " ms of grace for a " + preStopMs + " ms preStop, a "
          + drainMs + " ms drain and " + EXIT_MARGIN_MS + " ms to exit");
      assertTrue(graceMs <= needed + 10_000, role + ": " + graceMs + " ms of grace keeps a stuck pod around long after "
          + "its drain (" + needed + " ms) should have ended");
    }
    assertNotNull(container(deployment(Role.GATEWAY)).getJsonObject("lifecycle"),
        "gateways pause before SIGTERM, so the Service stops sending them clients before they stop listening");
  }

  /** Time a drained node needs to close Vert.x, leave the cluster and exit. */
  private static final long EXIT_MARGIN_MS = 3_000;

  @Test
  @DisplayName("every Deployment runs the image Jib builds")
  void imageIsJibs() throws IOException {
    Matcher jib = Pattern.compile("<to><image>([^<]+)</image></to>").matcher(Files.readString(Path.of("pom.xml")));
    assertTrue(jib.find(), "launcher/pom.xml names the image Jib builds");
    for (Role role : Role.values()) {
      assertEquals(jib.group(1), container(deployment(role)).getString("image"), role.id());
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static JsonObject only(String kind, String name) {
    List<JsonObject> found = DOCS.stream().filter(d -> kind.equals(d.getString("kind")))
        .filter(d -> name == null || name.equals(d.getJsonObject("metadata").getString("name"))).toList();
    assertEquals(1, found.size(), "one " + kind + " " + (name == null ? "" : name));
    return found.get(0);
  }

  private static JsonObject deployment(Role role) {
    return only("Deployment", "voicemesh-" + role.id());
  }

  private static JsonObject service(String name) {
    return only("Service", name);
  }

  private static JsonObject container(JsonObject deployment) {
    JsonArray containers = deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec")
        .getJsonArray("containers");
    assertEquals(1, containers.size());
    return containers.getJsonObject(0);
  }

  private static JsonObject podLabels(JsonObject deployment) {
    return deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("metadata").getJsonObject("labels");
  }

  private static Map<String, Integer> ports(JsonObject container) {
    return container.getJsonArray("ports").stream().map(JsonObject.class::cast)
        .collect(Collectors.toMap(p -> p.getString("name"), p -> p.getInteger("containerPort")));
  }

  private static Map<String, JsonObject> env(JsonObject container) {
    return container.getJsonArray("env").stream().map(JsonObject.class::cast)
        .collect(Collectors.toMap(e -> e.getString("name"), e -> e));
  }

  /** Whether a label selector selects pods with these labels. */
  private static boolean matches(JsonObject selector, JsonObject labels) {
    return selector.fieldNames().stream().allMatch(key -> selector.getString(key).equals(labels.getString(key)));
  }
}
