// Importing this module registers the custom layers with tfjs' serialization (needed before loading a model).
export { GroupedConv2D, type GroupedConv2DArgs } from './grouped-conv2d';
export { LocalResponseNormalization, PAPER_LRN, lrnFromCaffe, lrnFromPaper, type LrnParams } from './lrn';
