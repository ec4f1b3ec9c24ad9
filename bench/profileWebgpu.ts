// Per-kernel GPU profile of the reference training step on webgpu (bench/webgpuProfile.ts):
//   VII_BACKEND=webgpu npx tsx bench/profileWebgpu.ts   (PROFILE_SIZE=64 PROFILE_BATCH=256 PERCEPTUAL=1 STEPS=5 PROFILE_KERNELS=both)
import { selectBackend, useOwnWebgpuKernels } from '../src/lib/backend/selectBackend';
import { profileWebgpuSteps } from './webgpuProfile';

async function main(): Promise<void> {
  const info = await selectBackend({ force: 'webgpu' });
  const size = Number(process.env.PROFILE_SIZE ?? 64) as 32 | 64;
  // PROFILE_KERNELS=stock|own|both (default both): tfjs-backend-webgpu's kernels alone, with this project's, or each in turn.
  const which = process.env.PROFILE_KERNELS ?? 'both';
  for (const own of which === 'both' ? [false, true] : [which === 'own']) {
    const ownKernels = useOwnWebgpuKernels(own);
    await profileWebgpuSteps(size, Number(process.env.PROFILE_BATCH ?? 64), process.env.PERCEPTUAL === '1', Number(process.env.STEPS ?? 5), { ...info, ownKernels });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
