package io.voicemesh.launcher;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.NodeLeft;
import java.io.File;
import java.io.FileNotFoundException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of a Hazelcast cluster: the clustered event bus, and who else is there.
 * Each member carries its node name and roles as Hazelcast member attributes, so when one goes
 * away every other node learns which work of theirs it held ({@code Addresses.NODE_LEFT}); one
 * that died is reported sooner, from its closed connection ({@code Addresses.NODE_UNREACHABLE},
 * {@link LostMemberWatch}).
 */
final class Cluster {
  private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);
  static final String NODE_ATTRIBUTE = "voicemesh.node";
  static final String ROLES_ATTRIBUTE = "voicemesh.roles";
  /** Used when no cluster file is given and there is no cluster.xml in the working directory. */
  static final String BUNDLED_CONFIG = "cluster.xml";

  private final HazelcastClusterManager manager;
  /** Members reported unreachable and not yet dropped by the view: each is reported once. */
  private final Set<UUID> unreachable = ConcurrentHashMap.newKeySet();
  private Vertx vertx;

  private Cluster(HazelcastClusterManager manager) {
    this.manager = manager;
  }

  /** Reads the Hazelcast XML: the given file, else ./cluster.xml, else the copy inside the jar. */
  static Config hazelcastConfig(String file) throws FileNotFoundException {
    if (!file.isBlank()) {
      return new FileSystemXmlConfig(new File(file));
    }
    File local = new File("cluster.xml");
    return local.isFile() ? new FileSystemXmlConfig(local) : new ClasspathXmlConfig(BUNDLED_CONFIG);
  }

  /**
   * Joins the cluster. {@code host} is the address the event bus binds and announces (a pod's IP
   * on Kubernetes; loopback for a cluster on one machine).
   */
  static Future<Cluster> join(VertxBuilder builder, MeshConfig config, String node, Set<Role> roles) {
    Config hazelcast;
    try {
      hazelcast = hazelcastConfig(config.clusterConfig());
    } catch (FileNotFoundException e) {
      return Future.failedFuture(new IllegalArgumentException("no cluster configuration " + e.getMessage()));
    }
    hazelcast.getMemberAttributeConfig()
        .setAttribute(NODE_ATTRIBUTE, node)
        .setAttribute(ROLES_ATTRIBUTE, roles.stream().map(Role::id).sorted().collect(Collectors.joining(",")));
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast);
    Cluster cluster = new Cluster(manager);
    return builder.withClusterManager(manager).buildClustered()
        .compose(vertx -> {
          // Work is addressed by node name (an STT node's stream address, the work that moves when a
          // node leaves), so a second live member of the same name would take half of another's audio.
          String taken = manager.getHazelcastInstance().getCluster().getMembers().stream()
              .filter(m -> !m.localMember() && node.equals(m.getAttribute(NODE_ATTRIBUTE)))
              .map(m -> m.getAddress().toString()).findFirst().orElse(null);
          return taken == null ? Future.succeededFuture(vertx) : vertx.close().transform(closed -> Future.failedFuture(
              new IllegalStateException("node name " + node + " is already used by the cluster member at " + taken
                  + "; give each node its own name (--name, VOICEMESH_NODE)")));
        })
        .map(vertx -> {
          cluster.vertx = vertx;
          manager.getHazelcastInstance().getCluster().addMembershipListener(cluster.listener(vertx));
          // A node that is stopping names the work to move now (an STT node's streams): passed on
          // locally like a member that left, so the same failover moves it.
          vertx.eventBus().consumer(Addresses.NODE_DRAINING, message -> vertx.eventBus().publish(Addresses.NODE_LEFT,
              message.body(), new DeliveryOptions().setLocalOnly(true)));
          LostMemberWatch.install(vertx, manager.getHazelcastInstance(), cluster::unreachable);
          LOG.info("node {} joined cluster '{}' with roles {}: {} members", node, hazelcast.getClusterName(), roles,
              manager.getNodes().size());
          return cluster;
        });
  }

  /** The builder's event-bus options for a clustered node. */
  static EventBusOptions eventBusOptions(MeshConfig config) {
    return new EventBusOptions().setHost(config.clusterHost()).setClusterPublicHost(config.clusterHost())
        .setPort(config.clusterEventBusPort());
  }

  Vertx vertx() {
    return vertx;
  }

  /** Every member now, as {@code {node, roles, address}}, sorted by node name. */
  JsonArray members() {
    return new JsonArray(manager.getHazelcastInstance().getCluster().getMembers().stream()
        .sorted(Comparator.comparing(m -> String.valueOf(m.getAttribute(NODE_ATTRIBUTE))))
        .map(m -> (Object) new JsonObject()
            .put("node", m.getAttribute(NODE_ATTRIBUTE))
            .put("roles", new JsonArray(roles(m)))
            .put("address", m.getAddress().toString())
            .put("self", m.localMember()))
        .toList());
  }

  private static List<String> roles(Member member) {
    String roles = member.getAttribute(ROLES_ATTRIBUTE);
    return roles == null || roles.isBlank() ? List.of() : Arrays.asList(roles.split(","));
  }

  /** A member's connection closed and its address refuses connections: its work moves now. */
  private void unreachable(Member gone) {
    if (gone.getAttribute(NODE_ATTRIBUTE) == null || !unreachable.add(gone.getUuid())) {
      return;
    }
    NodeLeft left = new NodeLeft(gone.getAttribute(NODE_ATTRIBUTE), roles(gone));
    LOG.warn("node {} is unreachable (its connection closed, its address refuses connections); roles {}", left.node(),
        left.roles());
    vertx.eventBus().publish(Addresses.NODE_UNREACHABLE, Json.encode(left), new DeliveryOptions().setLocalOnly(true));
  }

  private MembershipListener listener(Vertx vertx) {
    return new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        LOG.info("node {} joined (roles {}); {} members", event.getMember().getAttribute(NODE_ATTRIBUTE),
            roles(event.getMember()), event.getMembers().size());
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        Member gone = event.getMember();
        unreachable.remove(gone.getUuid());
        if (gone.getAttribute(NODE_ATTRIBUTE) == null) {
          return; // not a VoiceMesh node (a tool joined the cluster): nothing of ours ran there
        }
        NodeLeft left = new NodeLeft(gone.getAttribute(NODE_ATTRIBUTE), roles(gone));
        LOG.warn("node {} left (roles {}); {} members", left.node(), left.roles(), event.getMembers().size());
        vertx.eventBus().publish(Addresses.NODE_LEFT, Json.encode(left), new DeliveryOptions().setLocalOnly(true));
      }
    };
  }
}
