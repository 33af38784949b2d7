/** The live source: a prompt sent to a running vLLM or SGLang server, its recorded routing as an Analysis. */
export { postJson, remoteAnalysis, remoteRequest } from './client';
export type { RemoteOptions } from './client';
