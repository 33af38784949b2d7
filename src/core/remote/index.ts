/** The live source: a prompt sent to a running vLLM or SGLang server, its recorded routing as an Analysis. */
export { CLI_REMOTE_HINTS, postJson, remoteAnalysis, remoteRequest } from './client';
export type { RemoteHints, RemoteOptions } from './client';
