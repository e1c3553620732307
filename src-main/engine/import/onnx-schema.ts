// The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto; field numbers copied from it) that model
// import reads. Packed numeric tensor fields are declared `bytes` here: the wire format of a packed repeated
// field is one length-delimited record, so protobufjs hands it over as a view of the file's bytes instead of
// a JS number array (a 240 MB model would otherwise become ~500 MB of doubles). A writer that did not pack
// them (legal but unseen in practice) leaves these fields unset, which the reader reports.
import protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto3";
package onnx;

message StringStringEntryProto { string key = 1; string value = 2; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
}

message AttributeProto {
  string name = 1;
  int32 type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  bytes float_data = 4;   // repeated float, packed
  bytes int32_data = 5;   // repeated int32, packed (varints)
  repeated int64 int64_data = 7;
  string name = 8;
  bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
  bytes double_data = 10; // repeated double, packed
}

message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
}
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; string dim_param = 2; }
  repeated Dimension dim = 1;
}
`;

/** ONNX TensorProto.DataType values this importer reads. */
export const ONNX_DTYPE = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

let root: protobuf.Root | null = null;

export function onnxModelType(): protobuf.Type {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root.lookupType('onnx.ModelProto');
}
