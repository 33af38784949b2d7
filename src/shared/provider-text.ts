/** How the execution provider and its node placement read in the CLI, the panels and the HTML report (one wording). */
import type { NodePlacement, ProviderReport } from './analysis';
import type { SpotCheckReport } from './spotcheck-report';

/** "412 nodes on GPU, 95 on CPU (Unsqueeze ×23, Gather ×10, …), 39 GPU↔CPU copies". */
export function placementText(p: NodePlacement, maxOps = Infinity): string {
  const ops = p.cpu_ops.slice(0, maxOps).map((op) => `${op} ×${p.cpu_op_counts[op] ?? '?'}`);
  if (p.cpu_ops.length > maxOps) ops.push(`${p.cpu_ops.length - maxOps} more types`);
  const cpu = p.cpu_nodes === 0 ? 'none on CPU' : `${p.cpu_nodes} on CPU (${ops.join(', ')})`;
  return `${p.gpu_nodes} node${p.gpu_nodes === 1 ? '' : 's'} on GPU, ${cpu}, ${p.memcpy_nodes} GPU↔CPU cop${p.memcpy_nodes === 1 ? 'y' : 'ies'}`;
}

/** The short form beside the provider's name: "95 of 507 nodes on CPU" or "all 507 nodes on GPU". */
export function placementBrief(p: NodePlacement): string {
  const total = p.gpu_nodes + p.cpu_nodes;
  return p.cpu_nodes === 0 ? `all ${total} node${total === 1 ? '' : 's'} on GPU` : `${p.cpu_nodes} of ${total} nodes on CPU`;
}

/** The spot-check report's snake_case copy of a ProviderReport (src/shared/spotcheck-report.ts). */
export interface ProviderFields {
  requested: string;
  used: string;
  skipped: { provider: string; reason: string }[];
  placement?: NodePlacement;
  placementProblem?: string;
  modelFile?: string;
}

export function providerFields(ep: NonNullable<SpotCheckReport['execution_provider']>): ProviderFields {
  return {
    requested: ep.requested,
    used: ep.used,
    skipped: ep.skipped,
    placement: ep.placement,
    placementProblem: ep.placement_problem,
    modelFile: ep.model_file,
  };
}

/** One line per fact: requested, used, the graph file, each skipped provider, the placement. */
export function providerDetails(p: ProviderFields | ProviderReport): string[] {
  const lines = [`requested: ${p.requested}`, `used: ${p.used}`];
  if (p.modelFile) lines.push(`graph: ${p.modelFile}`);
  for (const s of p.skipped) lines.push(`${s.provider} skipped: ${s.reason}`);
  if (p.placement) lines.push(`placement: ${placementText(p.placement)}`);
  if (p.placementProblem) lines.push(`placement not known: ${p.placementProblem}`);
  return lines;
}
