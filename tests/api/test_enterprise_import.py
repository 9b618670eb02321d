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
