import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's backend that expose its heap (present in 4.x). */
interface HeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function heapBackend(): HeapBackend | null {
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  return tf.getBackend() === 'wasm' && typeof b.typedArrayFromHeap === 'function' && typeof b.makeOutput === 'function' ? (b as HeapBackend) : null;
}

/**
 * A float32 tensor's values for reading. On wasm a view of the heap, without the copy that
 * dataSync makes (on the threaded build that copy goes byte by byte through a SharedArrayBuffer,
 * ~11 ns per value). The view is only valid until the tensor is disposed.
 */
export function readValues(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`readValues: expected a float32 tensor, got ${t.dtype}`);
  const heap = heapBackend();
  return heap ? heap.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/** Byte offset of a float32 tensor's values in the wasm heap (for the SIMD kernels, which address it directly). */
export function heapOffset(t: tf.Tensor): number {
  if (t.dtype !== 'float32') throw new Error(`heapOffset: expected a float32 tensor, got ${t.dtype}`);
  const heap = heapBackend();
  if (!heap) throw new Error(`heapOffset: tensors live in the wasm heap only on the wasm backend, not on ${tf.getBackend()}`);
  return heap.typedArrayFromHeap(t).byteOffset;
}

/** New float32 tensors whose values `fill` writes in place, in one pass (every value: memory is not zeroed). */
export function tensorsFromFill(shapes: number[][], fill: (values: Float32Array[]) => void): tf.Tensor[] {
  const heap = heapBackend();
  if (!heap) {
    const values = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
    fill(values);
    return values.map((v, i) => tf.tensor(v, shapes[i]));
  }
  const infos = shapes.map((s) => heap.makeOutput(s, 'float32'));
  // Views taken after every allocation (an allocation may grow the heap).
  fill(infos.map((info) => heap.typedArrayFromHeap(info)));
  return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
}

/** A new float32 tensor whose values `fill` writes in place (every value: memory is not zeroed). */
export function tensorFromFill<R extends tf.Rank>(shape: tf.ShapeMap[R], fill: (values: Float32Array) => void): tf.Tensor<R> {
  return tensorsFromFill([shape as number[]], ([values]) => fill(values))[0] as tf.Tensor<R>;
}
