/** The engine's public entry points for the extension, the CLI and the spot-checks. */
export { createEngine, DamoeEngine, resolveModelDir, modelSummary } from './engine';
export type { CreateEngineOptions, BatchAnalyzeOptions } from './engine';
export { EngineError } from './engine-api';
export type { Engine, EngineOptions, AnalyzeRequest, EngineErrorCode } from './engine-api';
export { checkModelDirectory, checkModelIO, checkRoutingInvariants, parseContractMetadata, CONTRACT_DOC } from './contract';
export type { ContractMetadata, ModelContract } from './contract';
export { RoutingStatsAccumulator, expertLoad } from './analysis/stats';
export { defaultModelDir, listShippedModels, packageRoot } from './model-dirs';
export { ModelRuntime, defaultWorkerPath } from './runtime/model-runtime';
export type * from '../shared/analysis';
