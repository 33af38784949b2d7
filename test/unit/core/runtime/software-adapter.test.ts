/** softwareAdapterReason: `auto` skips WebGPU when the only Vulkan adapter is a software one. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { softwareAdapterReason, type VulkanProbe } from '../../../../src/core/runtime/software-adapter';

const SWIFTSHADER = '{"file_format_version": "1.0.0", "ICD": {"library_path": "./libvk_swiftshader.so", "api_version": "1.0.5"}}';
const LVP = '{"ICD": {"library_path": "/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so", "api_version": "1.3.0"}}';
const RADEON = '{"ICD": {"library_path": "/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so"}}';
const NVIDIA = '{"ICD": {"library_path": "libGLX_nvidia.so.0"}}';

function probe(files: Record<string, string>, env: Record<string, string> = {}, devices: string[] = []): VulkanProbe {
  return {
    platform: 'linux',
    env,
    home: '/home/u',
    exists: (p) => p in files || devices.includes(p),
    list: (dir) => {
      const prefix = `${dir}/`;
      const names = [...Object.keys(files), ...devices].filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
      return names.filter((n) => !n.includes('/'));
    },
    read: (p) => files[p] ?? null,
  };
}

describe('softwareAdapterReason', () => {
  it('names SwiftShader from VK_ICD_FILENAMES and says "software adapter"', () => {
    const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const reason = softwareAdapterReason(probe({ [icd]: SWIFTSHADER }, { VK_ICD_FILENAMES: icd }));
    assert.match(reason ?? '', /^software adapter: SwiftShader \(Vulkan driver \/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    assert.match(reason ?? '', /provider 'webgpu' forces it/);
  });

  it('names lavapipe (llvmpipe) found in the loader search folders; VK_DRIVER_FILES wins over VK_ICD_FILENAMES', () => {
    const lvp = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
    assert.match(softwareAdapterReason(probe({ [lvp]: LVP })) ?? '', /software adapter: llvmpipe \(Mesa lavapipe\)/);
    const files = { [lvp]: LVP, '/x/nvidia_icd.json': NVIDIA };
    assert.equal(
      softwareAdapterReason(probe(files, { VK_DRIVER_FILES: '/x/nvidia_icd.json', VK_ICD_FILENAMES: lvp }, ['/dev/nvidiactl'])),
      null,
    );
  });

  it('a hardware driver without a GPU device still leaves only the software adapter', () => {
    const files = {
      '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json': LVP,
      '/usr/share/vulkan/icd.d/radeon_icd.x86_64.json': RADEON,
    };
    assert.match(softwareAdapterReason(probe(files)) ?? '', /software adapter: llvmpipe.*no GPU device/);
    assert.equal(softwareAdapterReason(probe(files, {}, ['/dev/dri/renderD128'])), null);
  });

  it('no software driver (or no driver at all, or another platform): null, onnxruntime decides', () => {
    assert.equal(softwareAdapterReason(probe({ '/etc/vulkan/icd.d/nvidia_icd.json': NVIDIA }, {}, ['/dev/nvidiactl'])), null);
    assert.equal(softwareAdapterReason(probe({})), null);
    const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
    assert.equal(softwareAdapterReason({ ...probe({ [icd]: SWIFTSHADER }, { VK_ICD_FILENAMES: icd }), platform: 'win32' }), null);
  });
});
