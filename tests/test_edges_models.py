"""Edge cases of the MLE models (issue 12): counts that describe customers, not table rows."""
import numpy as np
import pandas as pd

from clvmodels.models.gamma_gamma import GammaGammaModel


def test_gamma_gamma_n_excluded_counts_customers_with_weights():
    """A compressed table (rows with weights) reports the same n_excluded_ as the exploded rows."""
    rng = np.random.default_rng(0)
    n = 40
    table = pd.DataFrame({"frequency": rng.integers(0, 4, n).astype(float),
                          "monetary_value": rng.gamma(3.0, 20.0, n),
                          "count": rng.integers(1, 5, n)})
    table.loc[table["frequency"] == 0, "monetary_value"] = 0.0
    table.loc[[1, 2], ["frequency", "monetary_value"]] = [2.0, 0.0]
    exploded = table.loc[table.index.repeat(table["count"])].reset_index(drop=True)
    a = GammaGammaModel(on_nonpositive="exclude").fit(table, weights="count")
    b = GammaGammaModel(on_nonpositive="exclude").fit(exploded)
    assert a.n_excluded_ == b.n_excluded_
    assert a.n_excluded_["nonpositive_monetary_value"] == int(table.loc[[1, 2], "count"].sum())
    assert a.n_excluded_["no_repeat_purchase"] == int(table.loc[table["frequency"] == 0, "count"].sum())
