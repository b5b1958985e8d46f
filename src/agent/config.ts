// Re-exported from src/config so existing imports keep compiling; new code imports src/config/agent-config.js.
export { DEFAULT_CONFIG, type AgentConfig, type LogLevel } from '../config/agent-config.js';
