// vxmesh agent: run the per-host agent in the foreground.
import type { Command } from '../command.js';
import { configFileOf } from '../../config/agent-load.js';
import { EXIT_OK, printJson } from '../io.js';
import { agentFlagsHelp, parseAgentCommandLine } from '../agent-flags.js';

const agent: Command = {
  path: ['agent'],
  summary: 'Run the vxmesh agent (as root) in the foreground until SIGINT/SIGTERM.',
  args: '[options]',
  minPositionals: 0,
  maxPositionals: 0,
  options: {},
  rawArgs: true,
  get details() {
    return `options (flags override VXMESH_* variables, which override the --config file, which overrides defaults):\n${agentFlagsHelp()}\n  -h, --help  show this help`;
  },
  async run(ctx, _args, rawArgv) {
    // A global `vxmesh --socket PATH agent` is the agent's socket unless the agent's own flag says otherwise.
    const env = ctx.socketFromFlag ? { ...ctx.env, VXMESH_SOCKET: ctx.socketPath } : ctx.env;
    const { config, warnings, printConfig } = parseAgentCommandLine(rawArgv, env, ctx.readFile);
    for (const warning of warnings) ctx.warn(warning);
    if (printConfig) {
      printJson(ctx.io, configFileOf(config));
      return EXIT_OK;
    }
    await ctx.runAgent(config);
    return EXIT_OK;
  },
};

export const agentCommands: Command[] = [agent];
