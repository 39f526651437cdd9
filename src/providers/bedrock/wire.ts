/**
 * The shapes of Amazon Bedrock's Converse and ConverseStream APIs that the gateway sends and reads
 * (Amazon Bedrock API Reference: Converse, ConverseStream, Message, ContentBlock, ToolConfiguration,
 * InferenceConfiguration, OutputConfig, ConverseStreamOutput, TokenUsage). Written from the reference:
 * the SDK package that types them (@aws-sdk/client-bedrock-runtime) is not a dependency.
 */

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';
export type DocumentFormat = 'pdf' | 'csv' | 'doc' | 'docx' | 'xls' | 'xlsx' | 'html' | 'txt' | 'md';

/** Bytes travel base64-encoded in the JSON wire form; an S3 object is named by its URI. */
export type MediaSource = { bytes: string } | { s3Location: { uri: string } };

export interface CachePointBlock {
  cachePoint: { type: 'default' };
}

export interface ToolResultBlock {
  toolResult: {
    toolUseId: string;
    content: ({ text: string } | { json: unknown } | { image: ImageBlock['image'] } | { document: DocumentBlock['document'] })[];
    status?: 'success' | 'error';
  };
}

export interface ImageBlock {
  image: { format: ImageFormat; source: MediaSource };
}

export interface DocumentBlock {
  document: { format: DocumentFormat; name: string; source: MediaSource };
}

export interface ToolUseBlock {
  toolUse: { toolUseId: string; name: string; input: unknown };
}

export interface ReasoningBlock {
  reasoningContent: { reasoningText?: { text: string; signature?: string }; redactedContent?: string };
}

export type ContentBlock = { text: string } | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock | ReasoningBlock | CachePointBlock;

export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export type SystemBlock = { text: string } | CachePointBlock;

export interface ToolSpec {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
}

export type ToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export interface ToolConfiguration {
  tools: (ToolSpec | CachePointBlock)[];
  toolChoice?: ToolChoice;
}

export interface InferenceConfiguration {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** Structured output (OutputConfig.textFormat): the schema travels as a JSON string. */
export interface OutputConfig {
  textFormat: { type: 'json_schema'; structure: { jsonSchema: { schema: string; name?: string; description?: string } } };
}

/** A Converse / ConverseStream request body (the model id is in the path). */
export interface ConverseRequest {
  messages: BedrockMessage[];
  system?: SystemBlock[];
  inferenceConfig?: InferenceConfiguration;
  toolConfig?: ToolConfiguration;
  outputConfig?: OutputConfig;
}

export type StopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered'
  | 'model_context_window_exceeded';

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** Converse's answer. */
export interface ConverseResponse {
  output?: { message?: { role: 'assistant'; content?: ContentBlock[] } };
  stopReason?: StopReason | string;
  usage?: TokenUsage;
}

/** The payloads of ConverseStream's events, by `:event-type`. */
export interface StreamPayloads {
  messageStart: { role: 'assistant' };
  contentBlockStart: { contentBlockIndex: number; start?: { toolUse?: { toolUseId: string; name: string } } };
  contentBlockDelta: {
    contentBlockIndex: number;
    delta: { text?: string; toolUse?: { input: string }; reasoningContent?: { text?: string; signature?: string; redactedContent?: string } };
  };
  contentBlockStop: { contentBlockIndex: number };
  messageStop: { stopReason: StopReason | string };
  metadata: { usage?: TokenUsage };
}
