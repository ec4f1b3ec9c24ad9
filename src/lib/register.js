// Loads tsx's CommonJS hook so that `import … from 'vii/…'` runs the TypeScript sources (notebooks).
require('tsx/cjs');
