"""Chinese wording, on the office pages, of the domain's error codes.

The API answers with the code and an English message for programs; a person at a page reads
this instead. A code not listed keeps the domain's own message.
"""

from __future__ import annotations

from server.domain.errors import DomainError

MESSAGES = {
    "not_found": "记录不存在，或不属于本单位",
    "no_enterprises": "没有符合筛选条件的企业",
    "role_not_allowed": "您的角色无权进行此项操作",
    "forbidden": "您无权进行此项操作",
    "illegal_transition": "隐患当前状态下不能进行此项操作",
    "evidence_required": "此项操作需要先上传证据",
    "deadline_required": "请填写整改期限",
    "deadline_in_past": "整改期限不能早于今天",
    "deadline_too_far": "整改期限超过了允许的最长期限",
    "deadline_ambiguous": "整改期限与期限天数只能填写一项",
    "reason_required": "请填写理由",
    "invalid_level": "隐患等级无效",
    "invalid_outcome": "复查结论无效",
    "invalid_rectification_plan": "督办整改方案填写不完整",
    "stop_too_long": "停产停业期限超过了允许的最长期限",
    "stop_until_required": "请填写停产停业截止日期",
    "stop_until_in_past": "停产停业截止日期不能早于今天",
    "stop_scope_required": "请填写停产停业范围",
    "opinion_document_required": "请先出具整改复查意见书",
    "missing_rectification_order": "尚未下达责令限期整改指令书，不能复查",
    "invalid_draw_plan": "抽查计划不能依法执行，请按提示修改",
    "invalid_cron": "定时规则（crontab）格式有误",
    "draw_exists": "本周期已抽取；如需重新抽取，请填写重抽理由",
    "draw_infeasible": "无法为每家抽中企业组成合规的检查组",
    "nothing_to_redraw": "本周期尚未抽取，无需重抽",
    "plan_inactive": "该抽查计划已停用",
    "period_not_applicable": "当前不在该计划的抽查周期内",
    "duplicate_recusal": "该回避关系已登记",
    "legal_review_required": "重大处罚决定须经法制审核通过后才能作出",
    "publication_conflict": "该决定已公示或已撤销",
    "case_not_open": "案件已结案，不能再操作",
    "duplicate_username": "用户名已存在",
    "own_account": "不能停用自己的账号",
    "no_decision": "该案件尚未作出处罚决定",
    "not_from_records": "该数字是计划数或比率，不是由记录逐条统计的，没有记录清单",
    "unknown_figure": "统计表中没有这一项",
    "validation_failed": "填写的内容有误，请按提示修改",
    "invalid_data": "填写的内容有误，请按提示修改",
}


def message_for(exc: DomainError) -> str:
    """What a page says about ``exc``."""
    return MESSAGES.get(exc.code, exc.message)
