/** Router conventions of the Hugging Face MoE families: the metadata (spec.ts) and the derivation (derive.ts). */
export { deriveRouting, rowsAreProbabilities } from './derive';
export type { DerivedRouting } from './derive';
export { moeDecoderLayers, parseRouterMetadata, routerInfo } from './spec';
export type { RouterInput, RouterMetadata, RouterSpec } from './spec';
