/**
 * The Gemini API's wire types (ai.google.dev, API reference: `models.generateContent`, `Content`, `Part`,
 * `Tool`, `GenerationConfig`, `GenerateContentResponse`), the subset the gateway sends and reads. Vertex AI
 * serves the same JSON under its own paths. No official type package is a dependency, so they are local.
 *
 * Also here: how Gemini's own identifiers survive a round trip through the canonical form. A thought
 * signature rides in a reasoning item's `encrypted_content`, and a function call id Gemini gave in the
 * call's `call_id`, each marked so that a value another provider made is never sent to Gemini as its own.
 */
import { GEMINI_SIGNATURE_MARK } from '../../protocol/model-request.ts';

export interface GeminiBlob {
  mimeType: string;
  data: string;
}

export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
}

export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

export interface GeminiPart {
  text?: string;
  /** The part is a thought (a summary of the model's thinking), not answer text. */
  thought?: boolean;
  /** Opaque state of the model's thinking, to be sent back on the same part. */
  thoughtSignature?: string;
  inlineData?: GeminiBlob;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** The raw JSON Schema of the arguments (`parameters` takes only an OpenAPI subset). */
  parametersJsonSchema?: unknown;
}

export interface GeminiToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
}

export interface GeminiThinkingConfig {
  includeThoughts?: boolean;
  thinkingBudget?: number;
  thinkingLevel?: 'minimal' | 'low' | 'medium' | 'high';
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  responseMimeType?: string;
  responseJsonSchema?: unknown;
  thinkingConfig?: GeminiThinkingConfig;
}

export interface GenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  index?: number;
}

export interface GenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** An error Google sends inside a stream (the same shape as an HTTP error body). */
export interface GeminiStreamError {
  error: { code?: number; message?: string; status?: string };
}

// ---- Gemini's identifiers in the canonical form -------------------------------------------------

const CALL_ID_MARK = 'gcall_';

/** A thought signature as a reasoning item's `encrypted_content`. */
export function signatureToEncrypted(signature: string): string {
  return GEMINI_SIGNATURE_MARK + signature;
}

/** The thought signature an `encrypted_content` holds; null for another provider's (OpenAI's encrypted reasoning). */
export function encryptedToSignature(encrypted: string | null | undefined): string | null {
  return encrypted?.startsWith(GEMINI_SIGNATURE_MARK) ? encrypted.slice(GEMINI_SIGNATURE_MARK.length) : null;
}

/** The canonical `call_id` of a call Gemini named itself. */
export function geminiIdToCallId(id: string): string {
  return CALL_ID_MARK + id;
}

/** The id to send back with a call and its response: only one Gemini gave (ids made elsewhere are refused by some Gemini endpoints). */
export function callIdToGeminiId(callId: string): string | undefined {
  return callId.startsWith(CALL_ID_MARK) ? callId.slice(CALL_ID_MARK.length) : undefined;
}

/**
 * Which Gemini a model name names: its generation (`gemini-2.5-pro` → 2.5; null for names without one,
 * `gemini-flash-latest`, Gemma, tuned models) and its tier, for what the request may ask of it.
 */
export interface GeminiModelTraits {
  generation: number | null;
  flash: boolean;
  pro: boolean;
}

export function geminiTraits(model: string): GeminiModelTraits {
  const m = /gemini-(\d+(?:\.\d+)?)/.exec(model);
  return { generation: m ? Number(m[1]) : null, flash: model.includes('flash'), pro: model.includes('-pro') };
}
