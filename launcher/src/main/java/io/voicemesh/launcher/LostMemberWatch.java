package io.voicemesh.launcher;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.nio.ConnectionListener;
import com.hazelcast.internal.server.ServerConnection;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.ConnectException;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns that a member died from its connection, before the membership view says so. When the
 * process at the other end of a member connection is gone (kill -9, a crash), the kernel closes
 * that connection at once; Hazelcast reconnects a few times before it suspects the member and the
 * view drops it (≈ 0.3 s on loopback, more on a loaded machine). Here a closed member connection
 * is followed by one connection attempt to the member's address: refused means nothing listens
 * there any more, so the member is dead. A member that is merely slow or hung (SIGSTOP) keeps its
 * connections (and its kernel still accepts), so it is never reported; the heartbeat timeout of
 * the membership view covers it. A connection that closes for another reason (a timeout on a real
 * network) proves nothing and is left to the view too.
 *
 * <p>Hazelcast offers no public hook for its member connections: this uses its internal
 * {@code ConnectionListener} (Hazelcast 5.3.8); without it, only the membership view is used.
 */
final class LostMemberWatch implements ConnectionListener<ServerConnection> {
  private static final Logger LOG = LoggerFactory.getLogger(LostMemberWatch.class);
  private static final int PROBE_TIMEOUT_MS = 500;

  private final HazelcastInstance hazelcast;
  private final NetClient probe;
  private final Consumer<Member> onDead;

  private LostMemberWatch(Vertx vertx, HazelcastInstance hazelcast, Consumer<Member> onDead) {
    this.hazelcast = hazelcast;
    this.probe = vertx.createNetClient(new NetClientOptions().setConnectTimeout(PROBE_TIMEOUT_MS));
    this.onDead = onDead;
  }

  /** Watches the member connections of {@code hazelcast}; {@code onDead} hears each dead member once or more. */
  static void install(Vertx vertx, HazelcastInstance hazelcast, Consumer<Member> onDead) {
    try {
      ((HazelcastInstanceProxy) hazelcast).getOriginal().node.getServer()
          .getConnectionManager(EndpointQualifier.MEMBER)
          .addConnectionListener(new LostMemberWatch(vertx, hazelcast, onDead));
    } catch (RuntimeException | LinkageError unavailable) {
      LOG.warn("member connections cannot be watched ({}); node loss is learned from the membership view only",
          unavailable.toString());
    }
  }

  @Override
  public void connectionAdded(ServerConnection connection) {
  }

  @Override
  public void connectionRemoved(ServerConnection connection) {
    UUID uuid = connection.getRemoteUuid();
    Member member = uuid == null ? null : hazelcast.getCluster().getMembers().stream()
        .filter(m -> m.getUuid().equals(uuid) && !m.localMember()).findFirst().orElse(null);
    if (member == null) {
      return; // not a member's connection, or the view has dropped it already
    }
    probe.connect(member.getAddress().getPort(), member.getAddress().getHost())
        .onSuccess(alive -> alive.close())
        .onFailure(e -> {
          if (e instanceof ConnectException && !(e instanceof ConnectTimeoutException)) {
            onDead.accept(member);
          }
        });
  }
}
