/** Model loaders and conditioning: they only pass names and prompt text along. */
import { NodeError, nodeFrame } from '../errors.ts';
import { BUILT_IN_VAES, modelFiles } from '../models.ts';
import { stringInput } from './inputs.ts';
import type { NodeBehaviour } from './types.ts';
import { isValue, type ConditioningValue, type ModelValue } from './values.ts';

function model(kind: ModelValue['kind'], name: unknown): ModelValue {
  return { kind, name: stringInput(name) } as ModelValue;
}

export const MODEL_NODES: Record<string, NodeBehaviour> = {
  CheckpointLoaderSimple: {
    comboOptions: { ckpt_name: () => modelFiles('checkpoints') },
    run: ({ ckpt_name }) => ({ outputs: [model('model', ckpt_name), model('clip', ckpt_name), model('vae', ckpt_name)] }),
  },
  UNETLoader: {
    comboOptions: { unet_name: () => modelFiles('diffusion_models') },
    run: ({ unet_name }) => ({ outputs: [model('model', unet_name)] }),
  },
  VAELoader: {
    comboOptions: { vae_name: () => [...modelFiles('vae'), ...BUILT_IN_VAES] },
    run: ({ vae_name }) => ({ outputs: [model('vae', vae_name)] }),
  },
  CLIPTextEncode: {
    run: ({ text, clip }) => {
      if (!isValue(clip, 'clip')) {
        throw new NodeError(
          'RuntimeError',
          'ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node your checkpoint does not contain a valid clip or text encoder model.',
          [nodeFrame('nodes.py', 74, 'encode', 'raise RuntimeError("ERROR: clip input is invalid: None\\n\\nIf the clip is from a checkpoint loader node your checkpoint does not contain a valid clip or text encoder model.")')],
        );
      }
      const conditioning: ConditioningValue = { kind: 'conditioning', text: stringInput(text) };
      return { outputs: [conditioning] };
    },
  },
  LotusConditioning: {
    run: () => ({ outputs: [{ kind: 'conditioning', text: '' } satisfies ConditioningValue] }),
  },
};
