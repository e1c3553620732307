// The model zoo's public surface.
export * from './spec';
export { listModels, modelIds, getModelSpec, type ModelInfo, type OptionInfo } from './zoo';
export { parseOverrides, type Overrides } from './overrides';
export { buildModel, type BuildOptions } from './builder';
export { layerKind, layerActivation, type LayerKind } from './layer-kind';
export { summarizeModel, summarizeSpec, formatSummary, type ModelSummary, type LayerSummary } from './summary';
export { saveModel, loadModel, MODEL_JSON, WEIGHTS_BIN, type SavedModelInfo } from './io';
export { UnknownModelError, OverrideError, SpecShapeError, ModelFileError } from './errors';
export * from './layers';
