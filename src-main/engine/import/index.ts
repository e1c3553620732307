// Model import: ONNX, Caffe and TensorFlow.js files -> ConvScope model folders.
export { importModel, saveImportedModel, type ImportOptions, type ImportedModel, type SourceFormat } from './import-model';
export { readModelInfo, MODEL_INFO_JSON, type ImportedModelInfo } from './model-info';
export { pixelsToInput, imagenetClassNames, preset, preprocessingFor, PRESET_NAMES, NAMED_PRESETS, CAFFE_IMAGENET_MEAN_BGR, type Preprocessing, type PresetName, type PreprocessChoice } from './preprocess';
export { ImportFileError, ImportOptionsError, UnsupportedModelError } from './errors';
