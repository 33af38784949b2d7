/**
 * The CLI's commands. To add one (e.g. `damoe spot-check`), write src/cli/commands/<name>.ts exporting a Command
 * and list it here; main.ts, --help and dispatch pick it up.
 */
import type { Command } from '../context';
import { analyzeCommand } from './analyze';
import { compareCommand } from './compare';
import { modelsCommand } from './models';
import { spotCheckCommand } from './spot-check';
import { traceCommand } from './trace';

export const COMMANDS: readonly Command[] = [analyzeCommand, compareCommand, modelsCommand, spotCheckCommand, traceCommand];
