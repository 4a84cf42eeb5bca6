package io.voicemesh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak's arithmetic and parsers, on the formats the mesh really produces. */
class SoakFiguresTest {

  @Test
  void slopeOfALeakIsFoundAndFlatNoiseIsNot() {
    double[] minutes = {0, 1, 2, 3, 4, 5, 6, 7};
    double[] leaking = new double[minutes.length];
    double[] flat = {40.1, 39.8, 40.3, 39.9, 40.2, 39.7, 40.0, 40.1};
    for (int i = 0; i < minutes.length; i++) {
      leaking[i] = 40 + 2.5 * minutes[i] + (i % 2 == 0 ? 0.2 : -0.2);
    }
    Trend leak = Trend.of(minutes, leaking);
    assertEquals(2.5, leak.slope(), 0.1);
    assertTrue(leak.risesSignificantly());
    Trend steady = Trend.of(minutes, flat);
    assertEquals(0, steady.slope(), 0.1);
    assertFalse(steady.risesSignificantly());
    assertTrue(Double.isNaN(Trend.of(new double[] {0, 1}, new double[] {1, 2}).slope()), "two points give no trend");
  }

  @Test
  void prometheusSeriesAreSummedByLabel() {
    PrometheusText m = new PrometheusText("""
        # HELP jvm_memory_used_bytes The amount of used memory
        # TYPE jvm_memory_used_bytes gauge
        jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.2582912E7
        jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 1.3704704E8
        jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 3.3759632E7
        vertx_eventbus_handlers 27.0
        voicemesh_sessions{node="vm-1",role="gateway"} 3.0
        voicemesh_sessions{node="vm-1",role="stt"} 2.0
        voicemesh_errors_total{code="capacity"} 317.0
        """);
    assertEquals(1.2582912E7 + 1.3704704E8, m.sum("jvm_memory_used_bytes", "area=\"heap\""));
    assertEquals(27, m.sum("vertx_eventbus_handlers"));
    assertEquals(2, m.sum("voicemesh_sessions", "role=\"stt\""));
    assertEquals(0, m.sum("no_such_metric"));
    assertEquals(317.0, m.byLabels("voicemesh_errors_total").get("{code=\"capacity\"}"));
  }

  @Test
  void histogramsShowWhatGrew() {
    ClassHistogram before = ClassHistogram.parse("""
         num     #instances         #bytes  class name (module)
        -------------------------------------------------------
           1:         12000        1200000  [B (java.base@17.0.15)
           2:            27           1728  io.vertx.core.eventbus.impl.MessageConsumerImpl
           3:             2             64  io.vertx.core.impl.VertxImpl$InternalTimerHandler
        Total         12029        1201792
        """);
    ClassHistogram after = ClassHistogram.parse("""
           1:         11000        1100000  [B (java.base@17.0.15)
           2:            93           5952  io.vertx.core.eventbus.impl.MessageConsumerImpl
           3:             2             64  io.vertx.core.impl.VertxImpl$InternalTimerHandler
           4:            66           6336  io.voicemesh.stt.SttSession
        """);
    assertEquals(27, before.instances("io.vertx.core.eventbus.impl.MessageConsumerImpl"));
    assertEquals(0, before.instances("io.voicemesh.stt.SttSession"));
    List<ClassHistogram.Change> grown = after.grownSince(before, 10, "io.voicemesh.", "io.vertx.");
    assertEquals(List.of("io.vertx.core.eventbus.impl.MessageConsumerImpl", "io.voicemesh.stt.SttSession"),
        grown.stream().map(ClassHistogram.Change::className).toList());
    assertEquals(93, grown.get(0).instancesAfter());
  }
}
