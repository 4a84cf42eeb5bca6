/*
 * VoiceMesh microphone capture (AudioWorklet).
 *
 * Input:  mono Float32 at the AudioContext rate (`sampleRate`, often 48000 or 44100).
 * Output: PCM16 little-endian mono at `targetRate` (16000), in frames of `frameSamples` (320 = 20 ms),
 *         posted to the main thread as {type: "frame", buffer: ArrayBuffer, rms: number} (buffer transferred).
 *
 * Resampling: a windowed-sinc low-pass (cut just below the target Nyquist) evaluated only where it is
 * needed, then linear interpolation between the two filtered neighbours of each output position.
 * Works for any ratio >= 1 (integer or not); at ratio 1 it is a plain copy.
 */
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.targetRate = o.targetRate || 16000;
    this.frameSamples = o.frameSamples || 320;
    this.ratio = sampleRate / this.targetRate;
    this.taps = CaptureProcessor.lowPass(this.ratio);
    this.half = (this.taps.length - 1) / 2;

    // Input history: buf[0] is absolute input sample `bufStart`; `bufLen` samples are valid.
    this.buf = new Float32Array(8192);
    this.bufLen = 0;
    this.bufStart = 0;
    // Absolute input position (fractional) of the next output sample.
    this.pos = 0;

    this.out = new Int16Array(this.frameSamples);
    this.outLen = 0;
    this.sumSquares = 0;
    this.enabled = true;

    this.port.onmessage = (e) => {
      if (e.data && e.data.type === "enable") this.enabled = !!e.data.value;
    };
  }

  /** Windowed-sinc (Blackman) low-pass taps for decimating by `ratio`; [1] when no filtering is needed. */
  static lowPass(ratio) {
    if (ratio <= 1.0001) return new Float32Array([1]);
    const half = Math.max(8, Math.ceil(ratio * 8));
    const n = 2 * half + 1;
    const fc = (0.5 / ratio) * 0.9; // cycles per input sample, a little under the new Nyquist
    const taps = new Float32Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const m = i - half;
      const sinc = m === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * m) / (Math.PI * m);
      const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1));
      taps[i] = sinc * w;
      sum += taps[i];
    }
    for (let i = 0; i < n; i++) taps[i] /= sum;
    return taps;
  }

  append(input) {
    if (this.bufLen + input.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + input.length));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    this.buf.set(input, this.bufLen);
    this.bufLen += input.length;
  }

  /** Filtered value at absolute input index `i` (requires i-half .. i+half in the buffer). */
  filtered(i) {
    const taps = this.taps;
    const base = i - this.half - this.bufStart;
    let acc = 0;
    for (let k = 0; k < taps.length; k++) acc += taps[k] * this.buf[base + k];
    return acc;
  }

  emit(sample) {
    const s = sample > 1 ? 1 : sample < -1 ? -1 : sample;
    this.sumSquares += s * s;
    this.out[this.outLen++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
    if (this.outLen === this.frameSamples) {
      // Int16Array is platform-endian; write explicitly little-endian to be safe.
      const bytes = new ArrayBuffer(this.frameSamples * 2);
      const view = new DataView(bytes);
      for (let i = 0; i < this.frameSamples; i++) view.setInt16(i * 2, this.out[i], true);
      const rms = Math.sqrt(this.sumSquares / this.frameSamples);
      this.port.postMessage({ type: "frame", buffer: bytes, rms }, [bytes]);
      this.outLen = 0;
      this.sumSquares = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0 || !input[0]) return true;
    let mono = input[0];
    if (input.length > 1) {
      // Mix down defensively (we ask for one channel, but not every device obeys).
      mono = new Float32Array(input[0].length);
      for (let c = 0; c < input.length; c++) {
        const ch = input[c];
        for (let i = 0; i < ch.length; i++) mono[i] += ch[i] / input.length;
      }
    }
    if (!this.enabled) return true;
    this.append(mono);

    const end = this.bufStart + this.bufLen; // first absolute index not yet received
    // Before the first `half` samples exist, start where the filter has full support.
    if (this.pos < this.half) this.pos = this.half;
    while (true) {
      const i0 = Math.floor(this.pos);
      if (i0 + 1 + this.half >= end) break;
      const frac = this.pos - i0;
      const a = this.filtered(i0);
      const v = frac === 0 ? a : a + (this.filtered(i0 + 1) - a) * frac;
      this.emit(v);
      this.pos += this.ratio;
    }

    // Drop history the filter no longer needs.
    const keepFrom = Math.floor(this.pos) - this.half;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    return true;
  }
}

registerProcessor("voicemesh-capture", CaptureProcessor);
