// Inspection's public surface: what a model computes for one image, its kernels, its gradients, its errors.
export { resolveModel, isRunFolder, type ResolvedModel, type ResolveOptions, type ModelSource } from './model-ref';
export { inspectImage, inspectTensor, type Inspection, type InspectionInput, type InspectOptions, type InspectSubject, type LayerReport } from './inspect';
export { inputPreparer, defaultPreprocessor, type InputPreparer, type PreparedInput } from './input';
export { computeActivations, activationProbe, type LayerActivation } from './activations';
export { activationStats, zeroChannels, saturatedFraction, type ActivationStats } from './layer-stats';
export { topK, toProbabilities, classLabel, type Prediction } from './predictions';
export { saliency, gradCam, scoreKind, spatialLayers, type SaliencyResult, type GradCamResult, type Heatmap, type ScoreKind } from './gradients';
export { deadRelus, type DeadReluReport, type DeadReluLayer, type DeadReluOptions } from './dead-relu';
export { convKernels, filterNorms, kernelAt, kernelDifference, type KernelArray } from './kernels';
export { openKernelTimeline, loadKernelSnapshot, differenceToFirst, filterNormsOverTime, type KernelTimeline, type NormSeries } from './kernel-timeline';
export { evaluateModel, cellExamples, confusionRows, type Evaluation, type EvaluateOptions } from './evaluate';
export { openHeldOut, type HeldOut } from './run-data';
export { renderKernels, kernelRange, defaultKernelMode, type KernelImageOptions, type KernelMode } from './render/kernels';
export { renderActivation, renderHeatmap, overlayHeatmap, pixelsToImage, type ActivationImageOptions } from './render/activations';
export { colourScales, type RgbaImage, type ValueRange } from './render/image';
export { encodePng, writePng } from './render/png';
export { writeInspectionPngs, inputImage, enlarge, enlargeTo } from './render/write-inspection';
export { InspectModelError, LayerChoiceError, ModelRefError, ClassChoiceError } from './errors';
