#!/usr/bin/python3
"""Writes model.onnx: a small MLP scoring six vibration/temperature sensor features into a failure
probability. Weights are fixed by a seed so the file is reproducible. Run with Debian's python3-onnx:
    /usr/bin/python3 make_onnx_example.py
"""
import json
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261124)
w1 = rng.normal(0, 0.5, (6, 16)).astype(np.float32)
b1 = rng.normal(0, 0.1, (16,)).astype(np.float32)
w2 = rng.normal(0, 0.5, (16, 1)).astype(np.float32)
b2 = np.array([-0.3], dtype=np.float32)

graph = helper.make_graph(
    [
        helper.make_node("Gemm", ["features", "w1", "b1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
        helper.make_node("Gemm", ["h_relu", "w2", "b2"], ["logit"], name="dense2"),
        helper.make_node("Sigmoid", ["logit"], ["failure_probability"], name="sigmoid"),
    ],
    "predictive_maintenance",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 6])],
    [helper.make_tensor_value_info("failure_probability", TensorProto.FLOAT, ["batch", 1])],
    [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
     numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")],
)
model = helper.make_model(graph, producer_name="edgeship-example", producer_version="1",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
# The one key edgeship reads feature names from (lib/model/feature_names.hpp): a JSON array.
helper.set_model_props(model, {"edgeship.feature_names": json.dumps(
    ["vibration_rms", "vibration_peak", "bearing_temp_c", "motor_temp_c", "current_a", "rpm"])})
onnx.checker.check_model(model, full_check=True)
onnx.save(model, "model.onnx")
