/**
 * Hugging Face tokenizer.json loader/encoder with exact character offsets into
 * the original text. No vscode imports: usable from the extension, CLI and tests.
 */
export { Tokenizer } from './tokenizer';
export type { EncodedToken, Encoding, EncodeOptions, SpecialToken, SpecialTokenRole } from './tokenizer';
export { TokenizerConfigError } from './config';
