/**
 * The core's public entry point: everything the extension (src/extension) and the CLI (src/cli) use of the engine,
 * and nothing else. They import `../core`, never a file inside it (a lint rule: ARCHITECTURE.md, "Layers"); the
 * core's own modules and its tests import each other directly. The data types the engine returns are src/shared's.
 */
export { createEngine, DamoeEngine, resolveModelDir, modelSummary } from './engine';
export type { CreateEngineOptions } from './engine';
export { EngineError } from './engine-api';
export type { AnalyzeRequest, BatchAnalyzeOptions, Engine, EngineErrorCode, EngineOptions } from './engine-api';
export { checkModelDirectory, CONTRACT_DOC } from './contract';
export { describeModel, providerSupport } from './model-listing';
export { defaultModelDir, listShippedModels, modelDirByName, packageRoot, shippedModelsDir } from './model-dirs';
export { isProviderChoice } from './runtime/providers';
export { openDataset, DatasetError } from './datasets';
export type { Dataset, DatasetErrorCode, DatasetOptions, DatasetRecord, ResolvedColumns } from './datasets';
export { defaultSpotCheckWorkers, runDatasetSample, sampleDataset, spotCheckDataset, workerMemoryFor } from './spotcheck';
export { RoutingTableWriter } from './spotcheck';
export type { DatasetSample, RoutingTableSummary, SpotCheckOptions } from './spotcheck';
export { buildCompareReport, compareOnSample } from './compare';
export type { CompareModelSource, CompareOptions, FullText } from './compare';
export {
  analyseTrace,
  detectTraceFormat,
  openedTrace,
  openTraceReader,
  readTraceFile,
  traceAnalysis,
  traceSpotCheck,
  ROUTING_FLAG,
} from './traces';
export type { OpenedTrace, TraceFile, TraceReader, TraceReaderOptions } from './traces';
export { remoteAnalysis, remoteRequest } from './remote';
export { checkSampleImportance, checkTextImportance } from './analysis/importance-check';
export type { ImportanceCheckOptions, ImportanceCheckProgress } from './analysis/importance-check';
export type { RemoteHints, RemoteOptions } from './remote';
