// Model import: ONNX, Caffe and TensorFlow.js files -> ConvScope model folders.
export { importModel, saveImportedModel, type ImportOptions, type ImportedModel, type SourceFormat } from './import-model';
export { readModelInfo, MODEL_INFO_JSON, type ImportedModelInfo } from './model-info';
export { pixelsToInput, imagenetClassNames, preset, PRESET_NAMES, CAFFE_IMAGENET_MEAN_BGR, type Preprocessing, type PresetName } from './preprocess';
export { ImportFileError, UnsupportedModelError } from './errors';
