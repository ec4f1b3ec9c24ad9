/**
 * Workgroups for a flat (one thread per output value) program: WebGPU allows 65,535 a dimension,
 * and tfjs' getGlobalIndex() flattens a 2-D dispatch back to one index.
 */
export function flatDispatch(shape: number[], workgroupSize: number): [number, number, number] {
  const groups = Math.ceil(shape.reduce((a, b) => a * b, 1) / workgroupSize);
  return [Math.min(groups, 65535), Math.ceil(groups / 65535), 1];
}
