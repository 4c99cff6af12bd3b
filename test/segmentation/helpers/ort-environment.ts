import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest runs each test file in its own realm, so the typed arrays that onnxruntime-node creates (outer
 * realm) fail `instanceof Float32Array` inside the test. This environment shares the outer realm's
 * typed-array constructors with the tests that use the ONNX session.
 */
export default class OrtEnvironment extends TestEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    const g = this.global as unknown as Record<string, unknown>;
    for (const name of [
      'ArrayBuffer',
      'Uint8Array',
      'Int8Array',
      'Uint16Array',
      'Int16Array',
      'Uint32Array',
      'Int32Array',
      'Float32Array',
      'Float64Array',
      'BigInt64Array',
      'BigUint64Array',
    ]) {
      g[name] = (globalThis as unknown as Record<string, unknown>)[name];
    }
  }
}
