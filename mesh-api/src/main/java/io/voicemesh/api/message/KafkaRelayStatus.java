package io.voicemesh.api.message;

import java.util.List;

/**
 * The Kafka relay of a session node, as its role status carries it (and {@code /health} shows under
 * {@code roles.session.kafka}): the topic, the shards whose lease this node holds (empty: another
 * node relays them, or this one cannot reach the database), and the relay's lag over every shard —
 * events stored but not yet acknowledged by Kafka, and the age of the oldest of them in seconds.
 * {@code lastError} says why the last round failed (Kafka away), null once a round succeeded.
 */
public record KafkaRelayStatus(String topic, List<Integer> shards, long lagEvents, double lagSeconds, String lastError) {
}
