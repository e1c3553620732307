// An imported model's preprocessing in the data module's form now lives with the rest of the imported-model
// input handling in inspect/imported-input.ts (inspection applies model-info.json exactly; this form is for
// datasets). Kept under its old name for tests/engine/handlers-models.test.ts until that file imports it from there.
export { datasetPreprocessor as preprocessorOfImport } from '../inspect/imported-input';
