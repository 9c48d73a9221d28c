"""The covariate design (clvmodels.covariates) and the covariate links (clvmodels.likelihoods.links).

Every rule of the design is tested with the exception type and the key words of its message
(the column, the rule, the count, the remedy); the compression and the objectives are tested for
exactness against the exploded rows, finite differences and the no-covariate objectives.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clvmodels.covariates import (CovariateDesign, LikelihoodRatioResult, compress_rows,
                                  likelihood_ratio_test)
from clvmodels.exceptions import (ConvergenceError, IdentificationError, InvalidArgumentError,
                                  InvalidValueError, MissingColumnError, ModelFileError, NotFittedError)
from clvmodels.likelihoods import bgbb, bgnbd, gamma_gamma, links, mbgnbd, pareto_nbd, sbg


@pytest.fixture
def customers():
    rng = np.random.default_rng(7)
    n = 200
    return pd.DataFrame({
        "channel": rng.choice(["web", "shop", "app"], n),
        "region": pd.Categorical(rng.choice(["south", "north"], n), categories=["south", "north", "east"]),
        "vip": rng.random(n) < 0.3,
        "age": rng.integers(18, 80, n).astype(float),
    }, index=pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id"))


def two_process(**kw):
    return CovariateDesign({"purchase": ["channel", "age"], "dropout": ["channel", "vip"]}, **kw)


# -- settings ----------------------------------------------------------------------------------

class TestSettings:
    def test_a_string_instead_of_a_list_is_refused_with_the_fix(self):
        with pytest.raises(InvalidArgumentError, match=r"purchase_covariates must be a list.*Use \['channel'\]"):
            CovariateDesign({"purchase": "channel"})

    def test_a_column_twice_in_one_role_is_refused(self):
        with pytest.raises(InvalidArgumentError, match="dropout_covariates names 'vip' more than once"):
            CovariateDesign({"purchase": [], "dropout": ["vip", "vip"]})

    def test_a_column_in_a_role_and_in_equal_covariates_is_refused(self):
        with pytest.raises(InvalidArgumentError,
                           match="equal_covariates names 'channel', which is also in purchase_covariates"):
            CovariateDesign({"purchase": ["channel"], "dropout": []}, equal=["channel"])

    def test_a_column_in_both_processes_gets_a_coefficient_in_each(self, customers):
        names = two_process().fit(customers).coefficient_names
        assert "purchase:channel[shop]" in names and "dropout:channel[shop]" in names

    def test_equal_covariates_need_two_processes(self):
        with pytest.raises(InvalidArgumentError, match="equal_covariates.*two processes.*spend"):
            CovariateDesign({"spend": []}, equal=["channel"])

    def test_history_columns_cannot_be_covariates(self):
        with pytest.raises(InvalidArgumentError, match="purchase_covariates names 'frequency'.*history"):
            CovariateDesign({"purchase": ["frequency"]}, reserved=("frequency", "recency", "T"))

    @pytest.mark.parametrize("kinds, words", [({"nope": "numeric"}, "kinds names 'nope'"),
                                              ({"age": "ordinal"}, r"kinds\['age'\] must be one of")])
    def test_kinds_are_checked(self, kinds, words):
        with pytest.raises(InvalidArgumentError, match=words):
            CovariateDesign({"purchase": ["age"]}, kinds=kinds)

    def test_empty_names_and_non_text_are_refused(self):
        with pytest.raises(InvalidArgumentError, match="must hold column names"):
            CovariateDesign({"purchase": ["", 3]})

    def test_no_columns_is_the_model_without_covariates(self, customers):
        design = CovariateDesign({"purchase": [], "dropout": []})
        assert design.is_empty
        matrices = design.fit_transform(customers)
        assert matrices.coefficient_names == ()
        assert matrices.matrices["purchase"].shape == (len(customers), 0)


# -- validation at fit -----------------------------------------------------------------------------

class TestValidation:
    def test_missing_column_is_named_with_a_close_match(self, customers):
        with pytest.raises(MissingColumnError, match=r"'Channel' \(did you mean 'channel'\?\)"):
            CovariateDesign({"purchase": ["Channel"]}).fit(customers)

    def test_missing_values_name_every_column_count_rows_and_remedy(self, customers):
        customers.loc[customers.index[[3, 10]], "age"] = np.nan
        customers.loc[customers.index[5], "channel"] = None
        with pytest.raises(InvalidValueError) as err:
            two_process().fit(customers)
        text = str(err.value)
        assert "3 of 200 customers" in text
        assert "'age': 2 of 200 rows" in text and "'c003'" in text and "'c010'" in text
        assert "'channel': 1 of 200 rows" in text and "'c005'" in text
        assert "on_missing: exclude" in text

    def test_missing_values_are_refused_at_transform_too(self, customers):
        design = two_process().fit(customers)
        customers["vip"] = customers["vip"].astype(object)
        customers.loc[customers.index[0], "vip"] = None
        with pytest.raises(InvalidValueError, match="'vip': 1 of 200 rows"):
            design.transform(customers)

    def test_text_in_a_declared_numeric_column(self, customers):
        customers["age"] = customers["age"].astype(object)
        customers.loc[customers.index[[1, 2]], "age"] = ["unknown", "n/a"]
        with pytest.raises(InvalidValueError, match=r"column 'age' must hold numbers.*2 of 200 rows.*'c001': 'unknown'"):
            CovariateDesign({"purchase": ["age"]}, kinds={"age": "numeric"}).fit(customers)

    def test_a_few_words_among_numbers_are_typos_not_labels(self, customers):
        customers["age"] = customers["age"].astype(object)
        customers.loc[customers.index[4], "age"] = "forty"
        with pytest.raises(InvalidValueError, match="column 'age' must hold numbers.*1 of 200 rows.*'forty'"):
            CovariateDesign({"purchase": ["age"]}).fit(customers)

    def test_text_that_reads_as_numbers_needs_a_declared_kind(self, customers):
        customers["age"] = customers["age"].astype(int).astype(str)
        with pytest.raises(InvalidValueError, match=r"reads as numbers.*kinds=\{'age': 'numeric'\}"):
            CovariateDesign({"purchase": ["age"]}).fit(customers)
        design = CovariateDesign({"purchase": ["age"]}, kinds={"age": "numeric"}).fit(customers)
        assert design.coefficient_names == ("purchase:age",)

    def test_infinite_values(self, customers):
        customers.loc[customers.index[7], "age"] = np.inf
        with pytest.raises(InvalidValueError, match="column 'age'.*finite.*1 of 200 rows are infinite.*'c007'"):
            two_process().fit(customers)

    @pytest.mark.parametrize("column, value", [("age", 30.0), ("channel", "web"), ("vip", True)])
    def test_a_constant_column(self, customers, column, value):
        customers[column] = value
        with pytest.raises(IdentificationError, match=f"column '{column}'.* constant.*200 customers.*Drop it"):
            two_process().fit(customers)

    def test_two_identical_columns(self, customers):
        customers["age_copy"] = customers["age"]
        with pytest.raises(IdentificationError, match="columns 'age' and 'age_copy' are identical.*200 customers.*Drop one"):
            CovariateDesign({"purchase": ["age", "age_copy"]}).fit(customers)

    def test_identical_categoricals_are_identical_indicators(self, customers):
        customers["channel2"] = customers["channel"]
        with pytest.raises(IdentificationError, match="columns 'channel' and 'channel2' are identical"):
            CovariateDesign({"purchase": ["channel", "channel2"]}).fit(customers)

    def test_collinear_columns_are_named_with_their_relation(self, customers):
        rng = np.random.default_rng(3)
        customers["first_order"] = rng.gamma(2.0, 20.0, len(customers))
        customers["later_orders"] = rng.gamma(2.0, 50.0, len(customers))
        customers["total"] = customers["first_order"] + customers["later_orders"]
        with pytest.raises(IdentificationError) as err:
            CovariateDesign({"purchase": ["age", "first_order", "later_orders", "total"]}).fit(customers)
        text = str(err.value)
        assert "perfectly collinear" in text and "purchase_covariates" in text
        assert "'first_order', 'later_orders', 'total'" in text and "'age'" not in text.split("satisfy")[0]
        assert "= constant for all 200 customers" in text and "Drop one" in text

    def test_collinear_with_the_intercept(self, customers):
        # indicators of every level of a categorical sum to 1 = the intercept
        customers["is_app"] = (customers["channel"] == "app").astype(float)
        with pytest.raises(IdentificationError, match="collinear.*'channel', 'is_app'"):
            CovariateDesign({"purchase": ["channel", "is_app"]}).fit(customers)

    def test_shared_and_own_columns_are_checked_together(self, customers):
        customers["age_copy"] = customers["age"]
        with pytest.raises(IdentificationError, match="'age' and 'age_copy' are identical"):
            CovariateDesign({"purchase": ["age"], "dropout": []}, equal=["age_copy"]).fit(customers)

    def test_too_few_customers(self, customers):
        small = customers.iloc[:4]
        with pytest.raises(IdentificationError, match="too few customers for the purchase_covariates: 4 customers.*3 coefficients"):
            CovariateDesign({"purchase": ["channel", "age"]}).fit(small.assign(channel=["web", "app", "shop", "web"]))

    def test_no_rows(self, customers):
        with pytest.raises(ValueError, match="no rows"):
            two_process().fit(customers.iloc[:0])

    def test_weights_of_zero_rows_do_not_count(self, customers):
        weights = np.where(customers["vip"], 0.0, 1.0)
        with pytest.raises(IdentificationError, match="column 'vip'.*constant"):
            two_process().fit(customers, weights=weights)

    def test_bad_weights(self, customers):
        with pytest.raises(InvalidArgumentError, match="weights must be 200 finite non-negative numbers"):
            two_process().fit(customers, weights=np.ones(3))

    def test_levels_of_mixed_types_that_print_alike(self, customers):
        customers["code"] = pd.Series(["a", "b", "c", 1, "1"] * 40, index=customers.index, dtype=object)
        with pytest.raises(InvalidValueError, match="column 'code': levels of different types print the same"):
            CovariateDesign({"purchase": ["code"]}).fit(customers)


# -- expansion -------------------------------------------------------------------------------------

class TestExpansion:
    def test_names_order_and_shared_coefficients(self, customers):
        design = CovariateDesign({"purchase": ["channel", "age"], "dropout": ["vip"]}, equal=["region"])
        m = design.fit_transform(customers)
        assert m.coefficient_names == ("purchase:channel[shop]", "purchase:channel[web]", "purchase:age",
                                       "dropout:vip[True]", "shared:region[north]")
        assert m.names["purchase"] == ("purchase:channel[shop]", "purchase:channel[web]", "purchase:age",
                                       "shared:region[north]")
        assert m.names["dropout"] == ("dropout:vip[True]", "shared:region[north]")
        assert m.positions["dropout"].tolist() == [3, 4]
        assert all(X.dtype == np.float64 for X in m.matrices.values())

    def test_reference_is_the_first_sorted_level_and_indicators_are_exact(self, customers):
        design = CovariateDesign({"purchase": ["channel"]}).fit(customers)
        column = design.columns_[0]
        assert column.reference == "app" and column.levels == ("app", "shop", "web")
        X = design.transform(customers).matrices["purchase"]
        np.testing.assert_array_equal(X[:, 0], (customers["channel"] == "shop").to_numpy(float))
        np.testing.assert_array_equal(X[:, 1], (customers["channel"] == "web").to_numpy(float))

    def test_reference_does_not_follow_the_counts(self, customers):
        customers["channel"] = np.where(np.arange(200) < 190, "web", np.where(np.arange(200) % 2, "app", "shop"))
        assert CovariateDesign({"purchase": ["channel"]}).fit(customers).columns_[0].reference == "app"

    def test_a_categoricals_reference_is_its_first_category_and_unused_ones_are_dropped(self, customers):
        customers["region"] = pd.Categorical(customers["region"].astype(str),
                                             categories=["east", "south", "north"])  # east unused
        column = CovariateDesign({"purchase": ["region"]}).fit(customers).columns_[0]
        assert column.kind == "categorical" and column.levels == ("south", "north") and column.reference == "south"

    def test_reference_can_be_chosen(self, customers):
        design = CovariateDesign({"purchase": ["channel"]}, reference={"channel": "web"}).fit(customers)
        assert design.coefficient_names == ("purchase:channel[app]", "purchase:channel[shop]")
        with pytest.raises(InvalidValueError, match=r"reference\['channel'\] is 'fax'.*levels are 'app', 'shop', 'web'"):
            CovariateDesign({"purchase": ["channel"]}, reference={"channel": "fax"}).fit(customers)

    def test_booleans_are_one_indicator_true_against_false(self, customers):
        design = CovariateDesign({"dropout": ["vip"]}).fit(customers)
        assert design.columns_[0].kind == "boolean" and design.columns_[0].reference is False
        X = design.transform(customers).matrices["dropout"]
        np.testing.assert_array_equal(X[:, 0], customers["vip"].to_numpy(float))
        assert design.coefficient_names == ("dropout:vip[True]",)

    def test_booleans_may_come_as_0_and_1_or_objects(self, customers):
        design = CovariateDesign({"dropout": ["vip"]}).fit(customers)
        as_int = customers.assign(vip=customers["vip"].astype(int))
        as_obj = customers.assign(vip=customers["vip"].astype(object))
        for frame in (as_int, as_obj):
            np.testing.assert_array_equal(design.transform(frame).matrices["dropout"],
                                          design.transform(customers).matrices["dropout"])
        with pytest.raises(InvalidValueError, match="column 'vip' must hold True or False.*1 of 200 rows"):
            design.transform(customers.assign(vip=customers["vip"].astype(object).where(np.arange(200) > 0, "yes")))

    def test_numeric_columns_are_used_as_they_are(self, customers):
        X = CovariateDesign({"purchase": ["age"]}).fit_transform(customers).matrices["purchase"]
        np.testing.assert_array_equal(X[:, 0], customers["age"].to_numpy())  # not centred, not scaled

    def test_integer_codes_declared_categorical(self, customers):
        customers["plan"] = np.arange(200) % 3 + 1
        design = CovariateDesign({"purchase": ["plan"]}, kinds={"plan": "categorical"}).fit(customers)
        assert design.coefficient_names == ("purchase:plan[2]", "purchase:plan[3]")
        as_float = customers.assign(plan=customers["plan"].astype(float))
        np.testing.assert_array_equal(design.transform(as_float).matrices["purchase"],
                                      design.transform(customers).matrices["purchase"])

    def test_string_dtype_and_categorical_predict_alike(self, customers):
        design = CovariateDesign({"purchase": ["channel"]}).fit(customers)
        as_string = customers.assign(channel=customers["channel"].astype("string"))
        as_cat = customers.assign(channel=pd.Categorical(customers["channel"]))
        expected = design.transform(customers).matrices["purchase"]
        for frame in (as_string, as_cat):
            np.testing.assert_array_equal(design.transform(frame).matrices["purchase"], expected)

    def test_an_unseen_level_at_prediction(self, customers):
        design = two_process().fit(customers)
        profiles = pd.DataFrame({"channel": ["web", "fax", "fax", "tv"], "age": [30.0] * 4, "vip": [True] * 4})
        with pytest.raises(InvalidValueError) as err:
            design.transform(profiles)
        text = str(err.value)
        assert "column 'channel'" in text and "'fax', 'tv'" in text and "in 3 of 4 rows" in text
        assert "known levels are 'app', 'shop', 'web'" in text and "refit" in text

    def test_an_unused_category_is_unseen_at_prediction(self, customers):
        design = CovariateDesign({"purchase": ["region"]}).fit(customers)
        with pytest.raises(InvalidValueError, match="'east'.*did not see"):
            design.transform(pd.DataFrame({"region": ["east"]}))

    def test_transform_needs_fit(self, customers):
        with pytest.raises(NotFittedError, match="call fit"):
            two_process().transform(customers)

    def test_one_profile_can_be_scored(self, customers):
        design = two_process().fit(customers)
        m = design.transform(pd.DataFrame({"channel": ["shop"], "age": [40.0], "vip": [False]}))
        assert m.matrices["purchase"].tolist() == [[1.0, 0.0, 40.0]]

    def test_linear_predictors_and_the_gradient_with_a_shared_coefficient(self, customers):
        design = CovariateDesign({"purchase": ["age"], "dropout": ["vip"]}, equal=["channel"])
        m = design.fit_transform(customers)
        g = np.array([0.01, -0.5, 0.2, 0.3])
        eta = m.linear_predictors(g)
        X_p = np.column_stack([customers["age"], customers["channel"] == "shop", customers["channel"] == "web"])
        np.testing.assert_allclose(eta["purchase"], X_p.astype(float) @ g[[0, 2, 3]])
        # gradient of F(g) = sum(sin(eta_p)) + sum(eta_d^2) against finite differences
        def F(v):
            e = m.linear_predictors(v)
            return np.sin(e["purchase"]).sum() + (e["dropout"] ** 2).sum()
        e = m.linear_predictors(g)
        grad = m.coefficient_gradient({"purchase": np.cos(e["purchase"]), "dropout": 2 * e["dropout"]})
        fd = [(F(g + 1e-6 * d) - F(g - 1e-6 * d)) / 2e-6 for d in np.eye(4)]
        np.testing.assert_allclose(grad, fd, rtol=1e-6)
        with pytest.raises(InvalidArgumentError, match="coefficients must be 4 numbers"):
            m.linear_predictors(np.zeros(3))


# -- persistence -----------------------------------------------------------------------------------

class TestRoundTrip:
    def test_fitted_design_survives_json(self, customers):
        customers["plan"] = np.arange(200) % 3 + 1
        design = CovariateDesign({"purchase": ["channel", "age", "plan"], "dropout": ["vip"]}, equal=["region"],
                                 kinds={"plan": "categorical"}, reference={"channel": "web"}).fit(customers)
        payload = json.loads(json.dumps(design.to_dict()))
        loaded = CovariateDesign.from_dict(payload)
        assert loaded.columns_ == design.columns_
        assert loaded.coefficient_names == design.coefficient_names
        a, b = design.transform(customers), loaded.transform(customers)
        for role in a.matrices:
            np.testing.assert_array_equal(a.matrices[role], b.matrices[role])
        assert loaded.to_dict() == payload

    def test_unfitted_design_survives_json(self):
        design = two_process()
        loaded = CovariateDesign.from_dict(json.loads(json.dumps(design.to_dict())))
        assert not loaded.is_fitted and loaded.role_columns == design.role_columns

    @pytest.mark.parametrize("damage, words", [
        (lambda p: p.pop("equal"), "fields are"),
        (lambda p: p.update(format_version=99), "version 99"),
        (lambda p: p.update(roles=["purchase"]), "'roles' must map"),
        (lambda p: p.update(roles={"purchase": "channel", "dropout": []}), "'roles' must map"),
        (lambda p: p.update(equal=["channel"]), "also in purchase_covariates"),
        (lambda p: p["columns"].reverse(), "'columns' describes"),
        (lambda p: p["columns"][0].update(kind="ordinal"), "kind 'ordinal'"),
        (lambda p: p["columns"][0].update(levels=["app"]), "at least two distinct levels"),
        (lambda p: p["columns"][0].update(reference="zzz"), "the reference first"),
        (lambda p: p["columns"][0].update(levels=["app", "app", "web"]), "distinct levels"),
        (lambda p: p["columns"][0].update(levels=["app", {"x": 1}]), "text, numbers"),
        (lambda p: p["columns"][1].update(levels=[1, 2]), "numeric column 'age' has levels"),
        (lambda p: p["columns"][2].update(levels=[True, False], reference=True), "boolean column 'vip'"),
        (lambda p: p["columns"][2].pop("reference"), "has fields"),
        (lambda p: p.update(columns="all"), "'columns' must be a list"),
    ])
    def test_damaged_dicts_are_refused_by_name(self, customers, damage, words):
        payload = json.loads(json.dumps(two_process().fit(customers).to_dict()))
        damage(payload)
        with pytest.raises(ModelFileError, match=f"model.json has a damaged covariate design: .*{words}"):
            CovariateDesign.from_dict(payload, source="model.json")

    def test_not_an_object(self):
        with pytest.raises(ModelFileError, match="it is a list"):
            CovariateDesign.from_dict([1, 2])


# -- sufficient statistics -------------------------------------------------------------------------

def _simulated(n=4000, seed=11):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"channel": rng.choice(["web", "shop", "app"], n), "vip": rng.random(n) < 0.3})
    T = rng.choice([26.0, 39.0, 52.0], n)
    draws = bgnbd.simulate([0.5, 4.0, 0.8, 2.5], T, rng=rng)
    history = {"frequency": draws["x"], "recency": np.round(draws["t_x"]), "T": T}
    history["recency"] = np.where(history["frequency"] > 0, np.maximum(history["recency"], 1.0), 0.0)
    return frame, history


class TestCompression:
    def test_compressed_sum_equals_the_exploded_sum(self):
        frame, history = _simulated()
        design = CovariateDesign({"purchase": ["channel", "vip"], "dropout": ["channel"]})
        m = design.fit_transform(frame)
        rows = compress_rows(history, m)
        assert len(rows.counts) < len(frame) / 2 and rows.counts.sum() == len(frame)
        g = np.array([0.3, -0.2, 0.5, 0.4, -0.6])

        def per_row(hist, mat):
            eta = mat.linear_predictors(g)
            params = links.individual_params([0.5, 4.0, 0.8, 2.5], bgnbd.PARAM_NAMES, links.LINKS["bgnbd"], eta)
            return bgnbd.loglik(params, hist["frequency"], hist["recency"], hist["T"])

        exploded = per_row(history, m).sum()
        compressed = rows.counts @ per_row(rows.history, rows.design)
        assert compressed == pytest.approx(exploded, rel=1e-12)
        np.testing.assert_allclose(rows.expand(per_row(rows.history, rows.design)), per_row(history, m), rtol=1e-13)

    def test_rows_are_the_same_in_any_order_and_weights_add_up(self):
        frame, history = _simulated(n=1000)
        m = CovariateDesign({"purchase": ["channel"], "dropout": ["vip"]}).fit_transform(frame)
        a = compress_rows(history, m)
        order = np.random.default_rng(0).permutation(len(frame))
        b = compress_rows({k: v[order] for k, v in history.items()}, m.take(order), weights=np.full(1000, 2.0))
        for k in history:
            np.testing.assert_array_equal(a.history[k], b.history[k])
        np.testing.assert_array_equal(a.design.matrices["purchase"], b.design.matrices["purchase"])
        np.testing.assert_array_equal(2 * a.counts, b.counts)

    def test_distinct_rows_are_really_distinct(self):
        frame, history = _simulated(n=1000)
        m = CovariateDesign({"purchase": ["channel", "vip"]}).fit_transform(frame)
        rows = compress_rows(history, m)
        stacked = np.column_stack([*rows.history.values(), rows.design.matrices["purchase"]])
        assert len(np.unique(stacked, axis=0)) == len(stacked)
        assert len(np.unique(np.column_stack([*history.values(), m.matrices["purchase"]]), axis=0)) == len(stacked)

    def test_without_covariates_it_compresses_on_the_history(self):
        frame, history = _simulated(n=500)
        m = CovariateDesign({"purchase": []}).fit_transform(frame)
        rows = compress_rows(history, m)
        assert len(rows.counts) == len(pd.DataFrame(history).drop_duplicates())

    def test_lengths_must_agree(self):
        frame, history = _simulated(n=100)
        m = CovariateDesign({"purchase": ["channel"]}).fit_transform(frame)
        with pytest.raises(InvalidArgumentError, match="same rows"):
            compress_rows({"x": np.zeros(5)}, m)


# -- likelihood-ratio test -------------------------------------------------------------------------

def _fit(ll, n=500, name="pareto_nbd", **coefficients):
    params = pd.Series({"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 12.0, **coefficients})
    return SimpleNamespace(params_=params, log_likelihood_=ll, n_customers_=n, name=name)


class TestLikelihoodRatio:
    def test_against_a_hand_computation(self):
        restricted = _fit(-9500.0)
        full = _fit(-9493.2, **{"purchase:channel[web]": 0.2, "purchase:channel[shop]": -0.1, "dropout:age": 0.01})
        result = likelihood_ratio_test(restricted, full)
        assert isinstance(result, LikelihoodRatioResult)
        assert result.statistic == pytest.approx(13.6)
        assert result.df == 3
        assert result.p_value == pytest.approx(stats.chi2.sf(13.6, 3), rel=1e-12)
        assert result.p_value == pytest.approx(0.003506, rel=1e-3)  # chi-squared table, 3 df
        assert result.added == ("purchase:channel[web]", "purchase:channel[shop]", "dropout:age")

    def test_equal_coefficients_nest_in_per_process_ones(self):
        shared = _fit(-100.0, **{"shared:vip[True]": 0.3})
        separate = _fit(-98.5, **{"purchase:vip[True]": 0.4, "dropout:vip[True]": 0.1})
        result = likelihood_ratio_test(shared, separate)
        assert result.df == 1 and result.statistic == pytest.approx(3.0)

    def test_not_nested(self):
        with pytest.raises(InvalidArgumentError, match=r"not nested in full: full lacks 'dropout:age'.*fewer covariates first"):
            likelihood_ratio_test(_fit(-10.0, **{"dropout:age": 0.1}), _fit(-9.0, **{"purchase:age": 0.1}))
        with pytest.raises(InvalidArgumentError, match="not nested in full: full has 5 parameters, not more"):
            likelihood_ratio_test(_fit(-10.0, **{"purchase:age": 0.1}), _fit(-9.0, **{"purchase:age": 0.1}))

    def test_swapped_arguments_are_not_nested(self):
        with pytest.raises(InvalidArgumentError, match="not nested"):
            likelihood_ratio_test(_fit(-9.0, **{"purchase:age": 0.1}), _fit(-10.0))

    def test_different_customers(self):
        with pytest.raises(InvalidArgumentError, match="fitted on 500 customers and full on 499"):
            likelihood_ratio_test(_fit(-10.0), _fit(-9.0, n=499, **{"purchase:age": 0.1}))

    def test_different_models(self):
        with pytest.raises(InvalidArgumentError, match="'bgnbd' model and full a 'mbgnbd'"):
            likelihood_ratio_test(_fit(-10.0, name="bgnbd"), _fit(-9.0, name="mbgnbd", **{"purchase:age": 0.1}))

    def test_a_full_fit_below_the_restricted_one_did_not_converge(self):
        with pytest.raises(ConvergenceError, match="full fit did not reach its maximum.*Refit the full model"):
            likelihood_ratio_test(_fit(-100.0), _fit(-100.5, **{"purchase:age": 0.0}))

    def test_a_tiny_negative_statistic_is_zero(self):
        result = likelihood_ratio_test(_fit(-100.0), _fit(-100.0 - 1e-8, **{"purchase:age": 0.0}))
        assert result.statistic == 0.0 and result.p_value == 1.0

    def test_unfitted_and_parameter_only_models(self):
        with pytest.raises(NotFittedError, match="restricted model.*not fitted"):
            likelihood_ratio_test(SimpleNamespace(), _fit(-9.0))
        with pytest.raises(InvalidArgumentError, match="full has no finite log-likelihood"):
            likelihood_ratio_test(_fit(-10.0), _fit(None, **{"purchase:age": 0.1}))

    def test_with_real_fits_of_nested_models(self):
        """A BG/NBD fit against its restriction r = fixed is not available; instead the LR test of
        two Gamma-Gamma-free toy likelihoods: a normal mean (restricted to 0) vs. free, where
        2 (ll_full - ll_restricted) = n xbar^2 / sigma^2 exactly."""
        x = np.random.default_rng(5).normal(0.2, 1.0, 400)
        ll = lambda mu: stats.norm.logpdf(x, mu, 1.0).sum()  # noqa: E731
        restricted = SimpleNamespace(params_=pd.Series({"sigma": 1.0}), log_likelihood_=ll(0.0), n_customers_=400)
        full = SimpleNamespace(params_=pd.Series({"sigma": 1.0, "purchase:mu": x.mean()}),
                               log_likelihood_=ll(x.mean()), n_customers_=400)
        result = likelihood_ratio_test(restricted, full)
        assert result.statistic == pytest.approx(400 * x.mean() ** 2, rel=1e-9)


# -- links -----------------------------------------------------------------------------------------

MODELS = {
    "bgnbd": (bgnbd, [0.5, 4.0, 0.8, 2.5]),
    "mbgnbd": (mbgnbd, [0.5, 4.0, 0.8, 2.5]),
    "pareto_nbd": (pareto_nbd, [0.5, 4.0, 0.7, 8.0]),
}


def _design_rows(n=3000, seed=2):
    frame, history = _simulated(n=n, seed=seed)
    design = CovariateDesign({"purchase": ["channel", "vip"], "dropout": ["channel"]}, equal=[])
    m = design.fit_transform(frame)
    rows = compress_rows(history, m)
    return rows, tuple(rows.history[c] for c in ("frequency", "recency", "T"))


def _fd(f, v, h=1e-6):
    return np.array([(f(v + h * e)[0] - f(v - h * e)[0]) / (2 * h) for e in np.eye(len(v))])


class TestLinks:
    def test_every_link_names_a_parameter_of_its_model(self):
        modules = {"bgnbd": bgnbd, "mbgnbd": mbgnbd, "pareto_nbd": pareto_nbd, "bgbb": bgbb, "sbg": sbg,
                   "gamma_gamma": gamma_gamma}
        assert set(links.LINKS) == set(modules)
        for name, model_links in links.LINKS.items():
            for link in model_links:
                assert link.param in modules[name].PARAM_NAMES and link.sign in (1, -1)

    def test_a_positive_coefficient_raises_the_rate(self):
        up = np.array([0.0, 1.0])  # eta for x = 0 and x = 1 with g = 1
        r, alpha, s, beta = 0.5, 4.0, 0.7, 8.0
        pnbd = dict((lk.param, lk.sign) for lk in links.LINKS["pareto_nbd"])
        assert np.all(np.diff(r / links.individual(alpha, up, pnbd["alpha"])) > 0)  # mean purchase rate
        assert np.all(np.diff(s / links.individual(beta, up, pnbd["beta"])) > 0)  # mean dropout rate
        a, b = 0.8, 2.5
        a_i = links.individual(a, up, dict((lk.param, lk.sign) for lk in links.LINKS["bgnbd"])["a"])
        np.testing.assert_allclose(a_i / b, a / b * np.exp(up))  # odds of the mean dropout probability
        p, q, g = 6.0, 3.7, 15.0
        g_i = links.individual(g, up, links.LINKS["gamma_gamma"][0].sign)
        np.testing.assert_allclose(p * g_i / (q - 1), p * g / (q - 1) * np.exp(up))  # expected spend

    @pytest.mark.parametrize("name", sorted(MODELS))
    def test_pattern_objective_gradient_matches_finite_differences(self, name):
        module, base = MODELS[name]
        rows, arrays = _design_rows()
        f = links.pattern_objective(module.make_objective, module.PARAM_NAMES, links.LINKS[name], arrays,
                                    rows.design, rows.counts)
        v = np.r_[base, 0.3, -0.2, 0.4, 0.5, -0.3]
        ll, grad = f(v)
        np.testing.assert_allclose(grad, _fd(f, v), rtol=1e-5, atol=1e-3)

    @pytest.mark.parametrize("name", ["bgnbd", "mbgnbd"])
    def test_row_objective_equals_pattern_objective(self, name):
        module, base = MODELS[name]
        rows, arrays = _design_rows()
        args = (module.PARAM_NAMES, links.LINKS[name], arrays, rows.design, rows.counts)
        v = np.r_[base, 0.3, -0.2, 0.4, 0.5, -0.3]
        ll_p, g_p = links.pattern_objective(module.make_objective, *args)(v)
        ll_r, g_r = links.row_objective(module.loglik, module.loglik_grad, *args)(v)
        assert ll_r == pytest.approx(ll_p, rel=1e-12)
        np.testing.assert_allclose(g_r, g_p, rtol=1e-9, atol=1e-8)

    def test_row_objective_with_a_continuous_covariate(self):
        rng = np.random.default_rng(4)
        n = 400
        tenure = rng.integers(1, 8, n).astype(float)
        churned = (rng.random(n) < 0.4).astype(float)
        frame = pd.DataFrame({"income": rng.normal(0, 1, n)})
        m = CovariateDesign({"dropout": ["income"]}).fit_transform(frame)
        f = links.row_objective(sbg.loglik, sbg.loglik_grad, sbg.PARAM_NAMES, links.LINKS["sbg"],
                                (tenure, churned), m, np.ones(n))
        v = np.array([0.7, 3.8, 0.25])
        np.testing.assert_allclose(f(v)[1], _fd(f, v), rtol=1e-6)

    @pytest.mark.parametrize("name, module, base, arrays", [
        ("gamma_gamma", gamma_gamma, [6.0, 3.7, 15.0], (np.array([1.0, 2, 3, 4, 5, 2]), np.array([10.0, 20, 5, 30, 40, 12]))),
        ("bgbb", bgbb, [1.2, 0.75, 0.66, 2.8], (np.array([0.0, 1, 2, 3, 6, 2]), np.array([0.0, 2, 5, 6, 6, 4]),
                                                 np.full(6, 6.0))),
    ])
    def test_other_models_gradients(self, name, module, base, arrays):
        roles = {link.role for link in links.LINKS[name]}
        frame = pd.DataFrame({"seg": ["a", "b", "a", "b", "c", "c"], "z": [0.1, -0.4, 0.3, 0.9, -1.2, 0.5]})
        m = CovariateDesign({role: ["seg", "z"] for role in sorted(roles)}).fit_transform(frame)
        w = np.array([3.0, 1, 2, 5, 1, 4])
        f = links.pattern_objective(module.make_objective, module.PARAM_NAMES, links.LINKS[name], arrays, m, w)
        v = np.r_[base, np.linspace(-0.3, 0.3, len(m.coefficient_names))]
        np.testing.assert_allclose(f(v)[1], _fd(f, v), rtol=1e-5, atol=1e-6)
        g = links.row_objective(module.loglik, module.loglik_grad, module.PARAM_NAMES, links.LINKS[name], arrays, m, w)
        np.testing.assert_allclose(g(v)[1], f(v)[1], rtol=1e-9, atol=1e-10)

    @pytest.mark.parametrize("name", sorted(MODELS))
    def test_no_covariate_columns_is_exactly_todays_objective(self, name):
        module, base = MODELS[name]
        frame, history = _simulated(n=2000)
        m = CovariateDesign({"purchase": [], "dropout": []}).fit_transform(frame)
        rows = compress_rows(history, m)
        arrays = tuple(rows.history[c] for c in ("frequency", "recency", "T"))
        f = links.pattern_objective(module.make_objective, module.PARAM_NAMES, links.LINKS[name], arrays,
                                    rows.design, rows.counts)
        ll, grad = f(np.array(base))
        ll0, grad0 = module.make_objective(*arrays, weights=rows.counts)(np.array(base))
        assert ll == ll0
        np.testing.assert_array_equal(grad, grad0)

    @pytest.mark.parametrize("name", sorted(MODELS))
    def test_a_covariate_splitting_the_data_into_identical_halves(self, name):
        """Two identical copies of the customers, one with x = 0 and one with x = 1: at g = 0 the
        log-likelihood is exactly twice the no-covariate one, the base gradient twice its gradient,
        and the coefficients' gradient the x = 1 half's score in the linked parameter. At the
        no-covariate optimum that score is 0, so the optimum with the covariate has g = 0 and the
        no-covariate log-likelihood."""
        module, base = MODELS[name]
        frame, history = _simulated(n=1500)
        doubled = {k: np.r_[v, v] for k, v in history.items()}
        half = pd.DataFrame({"half": np.r_[np.zeros(1500), np.ones(1500)]})
        m = CovariateDesign({"purchase": ["half"], "dropout": ["half"]}).fit_transform(half)
        rows = compress_rows(doubled, m)
        arrays = tuple(rows.history[c] for c in ("frequency", "recency", "T"))
        f = links.pattern_objective(module.make_objective, module.PARAM_NAMES, links.LINKS[name], arrays,
                                    rows.design, rows.counts)
        ll, grad = f(np.r_[base, 0.0, 0.0])
        ll0, grad0 = module.make_objective(*(history[c] for c in ("frequency", "recency", "T")),
                                           weights=np.ones(1500))(np.array(base))
        assert ll == pytest.approx(2 * ll0, rel=1e-12)
        np.testing.assert_allclose(grad[:4], 2 * grad0, rtol=1e-10)
        k = [module.PARAM_NAMES.index(link.param) for link in links.LINKS[name]]
        signs = [link.sign for link in links.LINKS[name]]
        np.testing.assert_allclose(grad[4:], [s * grad0[j] * base[j] for s, j in zip(signs, k)], rtol=1e-9)

    def test_wrong_vector_length(self):
        rows, arrays = _design_rows(n=300)
        f = links.pattern_objective(bgnbd.make_objective, bgnbd.PARAM_NAMES, links.LINKS["bgnbd"], arrays,
                                    rows.design, rows.counts)
        with pytest.raises(ValueError, match="expected 4 base parameters and 5 coefficients"):
            f(np.ones(4))
