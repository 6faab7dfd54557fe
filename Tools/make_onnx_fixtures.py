#!/usr/bin/env python3
"""Writes the small ONNX files the protobuf tests read (Tests/ZooONNXTests/Fixtures), with the
onnx package's own serializer:

- tensor.pb: a TensorProto from numpy_helper.from_array: float32 [2, 3] holding 0.5 * (0..5),
  named "x" (raw_data); the zoo must write the same bytes for the same tensor.
- tiny.onnx: a model (opset 17) with initializers "fc.weight" (float [2, 3], 0..5 in
  float_data), "fc.bias" (float [2], raw_data, [-1, 1]) and "shape" (int64 [2]), an Identity
  node naming "head.bias" after "fc.bias" (as torch.onnx.export names equal tensors it stores
  once), a Gemm and metadata_props {"class_names": "[\"a\",\"b\"]"}.

    python3 Tools/make_onnx_fixtures.py [--out Tests/ZooONNXTests/Fixtures]
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="Tests/ZooONNXTests/Fixtures")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)

    tensor = numpy_helper.from_array(
        (0.5 * np.arange(6, dtype=np.float32)).reshape(2, 3), name="x")
    with open(os.path.join(out, "tensor.pb"), "wb") as f:
        f.write(tensor.SerializeToString())

    weight = helper.make_tensor("fc.weight", TensorProto.FLOAT, [2, 3], list(range(6)))
    bias = numpy_helper.from_array(np.array([-1, 1], dtype=np.float32), name="fc.bias")
    shape = numpy_helper.from_array(np.array([0, -1], dtype=np.int64), name="shape")
    nodes = [
        helper.make_node("Identity", ["fc.bias"], ["head.bias"]),
        helper.make_node("Reshape", ["input", "shape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc.weight", "head.bias"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        initializer=[weight, bias, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="onnx-fixture")
    model.ir_version = 8
    helper.set_model_props(model, {"class_names": '["a","b"]'})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(out, "tiny.onnx"))


if __name__ == "__main__":
    main()
