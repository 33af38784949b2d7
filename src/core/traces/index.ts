/** Routing traces recorded by serving engines (vLLM, SGLang): formats, decoding, and the Analysis they give. */
export { detectTraceFormat, parseTrace, ROUTING_FLAG } from './formats';
export type { RecordedTrace } from './formats';
export { readTraceModelConfig, withOverrides } from './model-config';
export type { TraceModelConfig } from './model-config';
export { traceAnalysis } from './trace-analysis';
export type { TraceAnalysisOptions } from './trace-analysis';
export { analyseTrace, openTraceReader, readTraceFile, unwrapTraceLine } from './open';
export type { TraceFile, TraceReader, TraceReaderOptions } from './open';
export { traceSpotCheck } from './spotcheck';
export type { TraceSpotCheckOptions } from './spotcheck';
export { openedTrace } from './load';
export type { OpenedTrace, OpenTraceOptions } from './load';
