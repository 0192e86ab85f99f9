/** Internal barrel of the schema layer: P4Schema, P4Info text format, annotations. */
export { P4Schema } from './p4-schema.js';
export { parseTextProto, parseP4InfoText, formatTextProto, formatP4InfoText, protoRoot } from './text-format.js';
export type { TextProtoOptions, PlainMessage, PlainValue } from './text-format.js';
export { parseAnnotation, parseAnnotations, fromStructuredAnnotation, findAnnotation, renderValue } from './annotations.js';
export type { Annotation, AnnotationValue } from './annotations.js';
export { editDistance, suggest } from './did-you-mean.js';
export { ID_PREFIX, KIND_LABEL } from './types.js';
export type * from './types.js';
