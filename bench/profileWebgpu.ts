// Per-kernel GPU profile of the reference training step on webgpu (bench/webgpuProfile.ts):
//   VII_BACKEND=webgpu npx tsx bench/profileWebgpu.ts   (PROFILE_SIZE=64 PROFILE_BATCH=256 PERCEPTUAL=1 STEPS=5 PROFILE_KERNELS=both)
import { selectBackend, useOwnWebgpuKernels, WEBGPU_KERNEL_NAMES } from '../src/lib/backend/selectBackend';
import { profileWebgpuSteps } from './webgpuProfile';

async function main(): Promise<void> {
  const info = await selectBackend({ force: 'webgpu' });
  const size = Number(process.env.PROFILE_SIZE ?? 64) as 32 | 64;
  // PROFILE_KERNELS=stock|own|all|both (default both: stock, then own): tfjs-backend-webgpu's kernels
  // alone, with this project's default set (VII_WEBGPU_KERNELS), with every one of them, or stock and own in turn.
  const which = process.env.PROFILE_KERNELS ?? 'both';
  const sets: Record<string, boolean | string[]> = { stock: false, own: true, all: WEBGPU_KERNEL_NAMES };
  for (const set of which === 'both' ? [false, true] : [sets[which] ?? true]) {
    const ownKernels = useOwnWebgpuKernels(set);
    await profileWebgpuSteps(size, Number(process.env.PROFILE_BATCH ?? 64), process.env.PERCEPTUAL === '1', Number(process.env.STEPS ?? 5), { ...info, ownKernels });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
