"""Bulk import of the directory from CSV and XLSX: good rows land, bad rows are reported."""

from __future__ import annotations

import io

from openpyxl import Workbook


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def _upload(client, headers, content: bytes, filename: str):
    return client.post(
        "/api/v1/enterprises/import",
        data={"file": (io.BytesIO(content), filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_a_csv_with_chinese_headers_imports_and_reports_each_bad_row(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    good1, good2, dup = world.uscc(), world.uscc(), world.uscc()
    content = _csv(
        [
            ["统一社会信用代码", "企业名称", "地址", "行业", "风险等级", "信用等级", "重点企业"],
            [good1, "天津市恒通机械有限公司", "红旗路1号", "机械", "好", "A", "是"],
            [
                good1[:-1] + ("0" if good1[-1] != "0" else "1"),
                "坏代码公司",
                "",
                "机械",
                "好",
                "A",
                "否",
            ],
            [good2, "天津市瑞丰纺织有限公司", "", "textiles", "poor", "B", "否"],
            [dup, "天津市永盛商贸有限公司", "", "商贸", "", "", ""],
            [dup, "重复的行", "", "商贸", "", "", ""],
            [world.uscc(), "", "", "机械", "", "", ""],
            [world.uscc(), "未知行业公司", "", "航天", "", "", ""],
        ]
    )
    response = _upload(client, headers, content, "名录.csv")
    assert response.status_code == 200
    report = response.get_json()
    assert (report["created"], report["failed"]) == (3, 4)
    by_row = {r["row"]: r for r in report["rows"]}
    assert by_row[2]["status"] == "created"
    assert "uscc" in by_row[3]["errors"]
    assert by_row[6]["errors"]["uscc"] == ["repeats row 5 of this file"]
    assert "name" in by_row[7]["errors"]
    assert "industry" in by_row[8]["errors"]
    listed = client.get("/api/v1/enterprises?is_key=true", headers=headers).get_json()
    assert [e["uscc"] for e in listed["items"]] == [good1]
    poor = client.get("/api/v1/enterprises?risk_grade=poor", headers=headers).get_json()
    assert [e["credit_rating"] for e in poor["items"]] == ["B"]


def test_reimporting_updates_known_enterprises_by_uscc(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    uscc = world.uscc()
    header = ["uscc", "name", "industry", "risk_grade"]
    _upload(client, headers, _csv([header, [uscc, "旧名称有限公司", "machinery", "good"]]), "a.csv")
    second = _upload(
        client, headers, _csv([header, [uscc, "新名称有限公司", "machinery", "medium"]]), "a.csv"
    ).get_json()
    assert (second["created"], second["updated"]) == (0, 1)
    third = _upload(
        client, headers, _csv([header, [uscc, "新名称有限公司", "machinery", "medium"]]), "a.csv"
    ).get_json()
    assert third["unchanged"] == 1
    items = client.get("/api/v1/enterprises", headers=headers).get_json()["items"]
    assert [(e["name"], e["risk_grade"]) for e in items] == [("新名称有限公司", "medium")]


def test_a_gbk_csv_from_excel_is_read(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    content = _csv(
        [
            ["统一社会信用代码", "企业名称", "行业"],
            [world.uscc(), "天津市鑫源建材有限公司", "建材"],
        ],
        "gbk",
    )
    report = _upload(client, headers, content, "excel.csv").get_json()
    assert report["created"] == 1


def test_an_xlsx_imports_like_a_csv(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "企业名称", "行业", "纬度", "经度"])
    sheet.append([world.uscc(), "天津市金桥铝业有限公司", "有色", 39.12, 117.15])
    sheet.append(["bad", "坏行", "有色", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _upload(client, headers, buffer.getvalue(), "名录.xlsx").get_json()
    assert (report["created"], report["failed"]) == (1, 1)
    assert report["rows"][1]["row"] == 3
    item = client.get("/api/v1/enterprises", headers=headers).get_json()["items"][0]
    assert (item["industry"], item["latitude"]) == ("nonferrous", 39.12)


def test_a_file_without_the_required_columns_is_a_422(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    response = _upload(client, headers, _csv([["foo", "bar"], ["1", "2"]]), "x.csv")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unreadable_file"


def test_a_broken_xlsx_is_a_422(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    response = _upload(client, headers, b"PK\x03\x04 not really a zip", "x.xlsx")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unreadable_file"


def test_an_import_without_a_file_is_a_422(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post("/api/v1/enterprises/import", data={}, headers=headers)
    assert response.status_code == 422


def test_inspectors_may_not_import(world, client) -> None:
    world.agency()
    response = _upload(client, world.headers("inspector"), _csv([["uscc"]]), "x.csv")
    assert response.status_code == 403


def _only(client, headers) -> dict:
    (item,) = client.get("/api/v1/enterprises", headers=headers).get_json()["items"]
    return item


def test_a_sheet_of_three_columns_updates_those_and_keeps_every_other_value(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    stored = world.enterprise(
        headers,
        address="天津市南开区红旗路100号",
        region="长虹街道",
        legal_representative="张伟",
        contact_phone="022-27350000",
        latitude=39.12,
        longitude=117.15,
        is_key=True,
        risk_grade="poor",
        credit_rating="C",
        seriously_dishonest=True,
    )
    content = _csv(
        [["统一社会信用代码", "企业名称", "行业"], [stored["uscc"], "新名称有限公司", "机械"]]
    )
    report = _upload(client, headers, content, "a.csv").get_json()
    assert report["updated"] == 1
    after = _only(client, headers)
    assert after["name"] == "新名称有限公司"
    kept = {k: v for k, v in stored.items() if k not in {"name", "version", "updated_at"}}
    assert {k: after[k] for k in kept} == kept


def test_blank_cells_of_a_known_enterprise_change_nothing(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    stored = world.enterprise(headers, risk_grade="poor", is_key=True, address="红旗路1号")
    content = _csv(
        [
            ["统一社会信用代码", "企业名称", "地址", "行业", "风险等级", "重点企业", "信用等级"],
            [stored["uscc"], stored["name"], "", "机械", "", "", "b"],
        ]
    )
    report = _upload(client, headers, content, "a.csv").get_json()
    assert report["updated"] == 1, report
    after = _only(client, headers)
    assert (after["address"], after["risk_grade"], after["is_key"]) == ("红旗路1号", "poor", True)
    assert after["credit_rating"] == "B"


def test_a_grading_sheet_updates_known_enterprises_and_names_what_a_new_one_lacks(
    world, client
) -> None:
    world.agency()
    headers = world.headers("lead")
    stored = world.enterprise(headers, risk_grade="good")
    content = _csv([["统一社会信用代码", "风险等级"], [stored["uscc"], "差"], [world.uscc(), "好"]])
    report = _upload(client, headers, content, "grades.csv").get_json()
    assert (report["updated"], report["failed"]) == (1, 1)
    assert set(report["rows"][1]["errors"]) == {"name", "industry"}
    assert _only(client, headers)["risk_grade"] == "poor"


def test_a_nul_character_in_a_cell_fails_that_row_only(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    good = world.uscc()
    content = _csv(
        [
            ["统一社会信用代码", "企业名称", "行业"],
            [world.uscc(), "坏\x00公司", "机械"],
            [good, "天津市恒通机械有限公司", "机械"],
        ]
    )
    response = _upload(client, headers, content, "nul.csv")
    assert response.status_code == 200
    report = response.get_json()
    assert (report["created"], report["failed"]) == (1, 1)
    bad = report["rows"][0]
    assert (bad["row"], bad["errors"]) == (2, {"name": ["contains a NUL character"]})
    assert _only(client, headers)["uscc"] == good


def test_codes_typed_in_full_width_or_lower_case_are_normalised(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    uscc = world.uscc()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in uscc)  # ９１… as a Chinese IME types
    content = _csv(
        [
            ["统一社会信用代码", "企业名称", "行业", "信用等级", "风险等级", "重点企业", "纬度"],
            [full_width, "天津市恒通机械有限公司", "Machinery", "ａ", "Good", "是", "３９.１"],
        ]
    )
    report = _upload(client, headers, content, "a.csv").get_json()
    assert report["created"] == 1, report
    item = _only(client, headers)
    assert (item["uscc"], item["credit_rating"], item["risk_grade"]) == (uscc, "A", "good")
    assert (item["industry"], item["is_key"], item["latitude"]) == ("machinery", True, 39.1)


def test_a_title_row_above_the_header_is_skipped_and_rows_keep_their_numbers(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    content = _csv(
        [
            ["2024年南开区安全生产检查对象名录", "", ""],
            ["", "", ""],
            ["统一社会信用代码", "企业名称", "行业"],
            [world.uscc(), "天津市恒通机械有限公司", "机械"],
            ["bad", "坏行", "机械"],
        ]
    )
    report = _upload(client, headers, content, "titled.csv").get_json()
    assert (report["created"], report["failed"]) == (1, 1)
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(4, "created"), (5, "error")]
