"""An independent reference evaluator of LightGBM text models, written from LightGBM's own decision rules
(microsoft/LightGBM include/LightGBM/tree.h NumericalDecision/CategoricalDecision, src/boosting/gbdt.cpp,
src/objective/*; docs/design/onnx.md §5). It shares no code with edgeship's converter: it walks the trees
as LightGBM does, in double precision, and applies the objective's output transform.

LightGBM is not packaged in Debian, so the parity tests compare ONNX Runtime against this evaluator.
"""
import math

K_ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold


class Tree:
    def __init__(self, fields):
        self.num_leaves = int(fields["num_leaves"])
        self.num_cat = int(fields.get("num_cat", "0") or 0)
        ints = lambda k: [int(v) for v in fields.get(k, "").split()]
        floats = lambda k: [float(v) for v in fields.get(k, "").split()]
        self.leaf_value = floats("leaf_value")
        self.split_feature = ints("split_feature")
        self.threshold = floats("threshold")
        self.decision_type = ints("decision_type")
        self.left = ints("left_child")
        self.right = ints("right_child")
        self.cat_boundaries = ints("cat_boundaries")
        self.cat_threshold = ints("cat_threshold")

    def _numerical(self, x, node):
        dt = self.decision_type[node]
        missing = (dt >> 2) & 3
        if math.isnan(x) and missing != 2:
            x = 0.0
        if (missing == 1 and -K_ZERO_THRESHOLD <= x <= K_ZERO_THRESHOLD) or (missing == 2 and math.isnan(x)):
            return self.left[node] if dt & 2 else self.right[node]
        return self.left[node] if x <= self.threshold[node] else self.right[node]

    @staticmethod
    def _to_int(x):
        # static_cast<int>(double) on x86-64 (cvttsd2si): truncation toward zero, and INT_MIN for NaN and
        # for values outside the int range.
        if math.isnan(x) or x >= 2147483648.0 or x <= -2147483649.0:
            return -2147483648
        return int(math.trunc(x))

    def _categorical(self, x, node):
        dt = self.decision_type[node]
        missing = (dt >> 2) & 3
        v = self._to_int(x)
        if v < 0:
            return self.right[node]
        if math.isnan(x):  # reached only where the cast gives a non-negative value (not on x86-64)
            if missing == 2:
                return self.right[node]
            v = 0
        idx = int(self.threshold[node])
        begin, end = self.cat_boundaries[idx], self.cat_boundaries[idx + 1]
        word = v // 32
        if word < end - begin and (self.cat_threshold[begin + word] >> (v % 32)) & 1:
            return self.left[node]
        return self.right[node]

    def predict(self, row):
        if self.num_leaves == 1:
            return self.leaf_value[0]
        node = 0
        while node >= 0:
            x = float(row[self.split_feature[node]])
            if self.decision_type[node] & 1:
                node = self._categorical(x, node)
            else:
                node = self._numerical(x, node)
        return self.leaf_value[~node]


class Model:
    def __init__(self, text):
        lines = text.splitlines()
        if not lines or lines[0].strip() != "tree":
            raise ValueError("not a LightGBM text model")
        self.header = {}
        self.average_output = False
        trees = []
        cur = None
        for line in lines[1:]:
            line = line.strip()
            if line == "end of trees":
                break
            if not line:
                continue
            if "=" not in line:
                if line == "average_output" and cur is None:
                    self.average_output = True
                continue
            k, v = line.split("=", 1)
            if k == "Tree":
                cur = {}
                trees.append(cur)
            elif cur is None:
                self.header[k] = v
            else:
                cur[k] = v
        else:
            raise ValueError("missing 'end of trees'")
        self.trees = [Tree(f) for f in trees]
        self.per_iteration = int(self.header.get("num_tree_per_iteration", "1"))
        obj = self.header["objective"].split()
        self.objective = obj[0]
        self.sigmoid = 1.0
        for tok in obj[1:]:
            if tok.startswith("sigmoid:"):
                self.sigmoid = float(tok.split(":", 1)[1])

    def raw_score(self, row):
        """GBDT::PredictRaw: per-class sums in double, averaged over iterations for average_output."""
        k = self.per_iteration
        out = [0.0] * k
        for t, tree in enumerate(self.trees):
            out[t % k] += tree.predict(row)
        if self.average_output:
            iterations = len(self.trees) // k
            out = [v / iterations for v in out]
        return out

    def predict(self, row):
        """The objective's ConvertOutput applied to the raw score."""
        raw = self.raw_score(row)
        o = self.objective
        if o == "binary":
            return [1.0 / (1.0 + math.exp(-self.sigmoid * raw[0]))]
        if o == "multiclass":
            m = max(raw)
            e = [math.exp(v - m) for v in raw]
            s = sum(e)
            return [v / s for v in e]
        if o == "multiclassova":
            return [1.0 / (1.0 + math.exp(-self.sigmoid * v)) for v in raw]
        if o in ("poisson", "gamma", "tweedie"):
            return [math.exp(raw[0])]
        return raw
