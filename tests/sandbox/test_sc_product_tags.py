"""Product tags and the admin search, as the API reference states them: CreateProduct takes
at most 20 Tags of the Tag shape, UpdateProduct renames in place and adds or removes tags,
and SearchProductsAsAdmin filters by FullTextSearch, Owner, ProductType and SourceProductId
only (there is no tag filter: tags come from DescribeProductAsAdmin)."""

from collections.abc import Callable
from typing import Any

import pytest

ProductMaker = Callable[..., tuple[str, str]]


def _tags(count: int) -> list[dict[str, str]]:
    return [{"Key": f"k{i}", "Value": "v"} for i in range(count)]


def test_create_product_takes_twenty_tags(sc: Any, make_product: ProductMaker) -> None:
    product_id, _ = make_product("build", Tags=_tags(20))
    assert len(sc.describe_product_as_admin(Id=product_id)["Tags"]) == 20


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (_tags(21), "Tags must be a list of at most 20 tags"),
        ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], "appears more than once"),
        ([{"Key": "bad#key", "Value": "v"}], "may hold only"),
        ([{"Key": "k" * 129, "Value": "v"}], "1 to 128 characters"),
        ([{"Key": "k", "Value": "v" * 257}], "1 to 256 characters"),
    ],
)
def test_create_product_refuses_bad_tags_and_creates_nothing(
    sc: Any, make_product: ProductMaker, tags: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(sc.exceptions.InvalidParametersException, match=message):
        make_product("build", Tags=tags)
    assert sc.search_products_as_admin()["ProductViewDetails"] == []


def test_update_product_renames_in_place_and_moves_tags(
    sc: Any, make_product: ProductMaker
) -> None:
    product_id, _ = make_product("old name", Tags=[{"Key": "a", "Value": "1"}])
    updated = sc.update_product(
        Id=product_id,
        Name="new name",
        AddTags=[{"Key": "mlops-seeds:product-key", "Value": "build"}],
        RemoveTags=["a"],
    )
    assert updated["ProductViewDetail"]["ProductViewSummary"]["ProductId"] == product_id
    assert updated["Tags"] == [{"Key": "mlops-seeds:product-key", "Value": "build"}]
    described = sc.describe_product_as_admin(Id=product_id)
    assert described["ProductViewDetail"]["ProductViewSummary"]["Name"] == "new name"
    assert described["Tags"] == updated["Tags"]
    views = sc.search_products_as_admin()["ProductViewDetails"]
    assert [v["ProductViewSummary"]["ProductId"] for v in views] == [product_id]


def test_search_products_as_admin_has_no_tag_filter(sc: Any, make_product: ProductMaker) -> None:
    make_product("build", Tags=[{"Key": "team", "Value": "ml"}])
    with pytest.raises(sc.exceptions.InvalidParametersException, match="unknown key Tag"):
        sc.search_products_as_admin(Filters={"Tag": ["team"]})


def test_search_products_as_admin_by_owner_type_and_source(
    sc: Any, make_product: ProductMaker
) -> None:
    product_id, _ = make_product("build")
    other_id, _ = make_product("deploy")
    sc.update_product(Id=other_id, Owner="someone else")
    for filters in (
        {"Owner": ["platform"]},
        {"SourceProductId": [product_id]},
        {"FullTextSearch": ["BUILD"], "ProductType": ["CLOUD_FORMATION_TEMPLATE"]},
    ):
        found = sc.search_products_as_admin(Filters=filters, ProductSource="ACCOUNT")
        names = [v["ProductViewSummary"]["Name"] for v in found["ProductViewDetails"]]
        assert names == ["build"], filters


def test_search_products_as_admin_refuses_an_unknown_product_source(sc: Any) -> None:
    with pytest.raises(sc.exceptions.InvalidParametersException, match="ProductSource"):
        sc.search_products_as_admin(ProductSource="IMPORTED")
