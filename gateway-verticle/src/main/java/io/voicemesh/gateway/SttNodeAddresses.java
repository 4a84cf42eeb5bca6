package io.voicemesh.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.NodeLeft;
import io.voicemesh.api.message.NodeReport;
import io.voicemesh.api.message.SttControl;
import java.util.HashSet;
import java.util.Set;

/**
 * Gets each STT node's stream address ({@code Addresses.sttStreams}) into this gateway's event bus
 * before a stream needs it. The event bus looks an address up in the cluster's registry the first
 * time it sends there and then keeps it, updated as registrations change. A failover is exactly
 * when that first lookup can be slow: a registry key whose partition the dead member owned cannot
 * be read until the cluster has recovered the partition (0.5–0.9 s measured on a 2-core machine).
 * So each STT node that appears in the node reports ({@code dashboard.nodes}, once a second from
 * every node) is sent a probe once; a failed probe is retried at its next report.
 */
final class SttNodeAddresses {
  private static final long PROBE_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  /** STT nodes whose address answered a probe, or is being probed. */
  private final Set<String> known = new HashSet<>();

  SttNodeAddresses(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Listens for node reports and departures (until the deploying verticle is undeployed). */
  void start() {
    vertx.eventBus().consumer(Addresses.DASHBOARD_NODES, m -> reported(Json.decode(m.body(), NodeReport.class)));
    vertx.eventBus().localConsumer(Addresses.NODE_LEFT, m -> known.remove(Json.decode(m.body(), NodeLeft.class).node()));
  }

  /** The STT nodes known: reported, and not gone or found unreachable. */
  int count() {
    return known.size();
  }

  private void reported(NodeReport report) {
    if (report.roles() == null || !report.roles().containsKey(Role.STT.id()) || !known.add(report.node())) {
      return;
    }
    vertx.eventBus().request(Addresses.sttStreams(report.node()), Json.encode(new SttControl.Probe()),
        new DeliveryOptions().setSendTimeout(PROBE_TIMEOUT_MS)).onFailure(e -> known.remove(report.node()));
  }
}
