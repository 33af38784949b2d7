/**
 * Does WebGPU on this machine only have a software adapter (SwiftShader, or Mesa's lavapipe, whose device is named
 * "llvmpipe")? `auto` must not pick one: they run this project's models 20 to 1,000 times slower than the CPU
 * provider (../shared/notes/webgpu-on-cpu-vulkan.md). A forced `webgpu` still uses it.
 *
 * onnxruntime-node does not expose the adapter Dawn chose, so this reads what the Vulkan loader would load (on
 * Linux, where Dawn uses Vulkan): the ICD manifests named by VK_DRIVER_FILES / VK_ICD_FILENAMES, or else those in
 * the loader's search folders, and the GPU device nodes (/dev/dri/renderD*, /dev/nvidiactl, /dev/dxg). WebGPU is a
 * software adapter when every manifest is a software driver, or when some is and no GPU device node exists (a
 * hardware driver without its hardware enumerates nothing, so the software one is what Dawn gets).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface VulkanProbe {
  platform: string;
  env: Record<string, string | undefined>;
  home: string;
  exists(p: string): boolean;
  /** File names in a folder; [] when it cannot be read. */
  list(dir: string): string[];
  /** The file's text; null when it cannot be read. */
  read(p: string): string | null;
}

export const SYSTEM_PROBE: VulkanProbe = {
  platform: process.platform,
  env: process.env,
  home: os.homedir(),
  exists: (p) => fs.existsSync(p),
  list: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  read: (p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
};

/** Software Vulkan drivers by their library's file name, with the adapter name they give. */
const SOFTWARE_DRIVERS: { pattern: RegExp; name: string }[] = [
  { pattern: /swiftshader/i, name: 'SwiftShader' },
  { pattern: /lvp|lavapipe|llvmpipe/i, name: 'llvmpipe (Mesa lavapipe)' },
];

function manifestFiles(probe: VulkanProbe): string[] {
  const split = (v: string | undefined): string[] => (v ?? '').split(path.delimiter).filter(Boolean);
  const expand = (entries: string[]): string[] =>
    entries.flatMap((e) =>
      e.endsWith('.json')
        ? [e]
        : probe
            .list(e)
            .filter((f) => f.endsWith('.json'))
            .map((f) => path.join(e, f)),
    );
  const named = split(probe.env.VK_DRIVER_FILES ?? probe.env.VK_ICD_FILENAMES);
  const added = split(probe.env.VK_ADD_DRIVER_FILES);
  if (named.length > 0) return expand([...named, ...added]);
  const env = probe.env;
  const configDirs = [env.XDG_CONFIG_HOME ?? path.join(probe.home, '.config'), ...split(env.XDG_CONFIG_DIRS ?? '/etc/xdg'), '/etc'];
  const dataDirs = [
    env.XDG_DATA_HOME ?? path.join(probe.home, '.local', 'share'),
    ...split(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share'),
  ];
  return expand([...added, ...[...configDirs, ...dataDirs].map((d) => path.join(d, 'vulkan', 'icd.d'))]);
}

/**
 * Why `auto` skips WebGPU here ("software adapter: SwiftShader ..."), or null when WebGPU may have a real GPU (or
 * no adapter at all, which onnxruntime then reports itself).
 */
export function softwareAdapterReason(probe: VulkanProbe = SYSTEM_PROBE): string | null {
  if (probe.platform !== 'linux') return null;
  const software: { file: string; name: string }[] = [];
  let hardware = 0;
  for (const file of manifestFiles(probe)) {
    const text = probe.read(file);
    if (text === null) continue;
    let library = '';
    try {
      library = String((JSON.parse(text) as { ICD?: { library_path?: unknown } }).ICD?.library_path ?? '');
    } catch {
      continue;
    }
    const driver = SOFTWARE_DRIVERS.find((d) => d.pattern.test(path.basename(library)) || d.pattern.test(path.basename(file)));
    if (driver) software.push({ file, name: driver.name });
    else hardware++;
  }
  if (software.length === 0) return null;
  const gpuDevice =
    probe.list('/dev/dri').some((f) => f.startsWith('renderD')) || probe.exists('/dev/nvidiactl') || probe.exists('/dev/dxg');
  if (hardware > 0 && gpuDevice) return null;
  const names = [...new Set(software.map((s) => s.name))].join(', ');
  const why = hardware === 0 ? 'the only Vulkan drivers are software ones' : 'no GPU device (/dev/dri/renderD*, /dev/nvidiactl)';
  return (
    `software adapter: ${names} (Vulkan driver ${software.map((s) => s.file).join(', ')}; ${why}). ` +
    `auto does not use a software adapter, which is far slower than the CPU provider; provider 'webgpu' forces it`
  );
}
