"""Words the synthetic population is made of: districts, authorities, names and text templates.

What belongs here: constant Chinese vocabulary (Shanghai districts with their administrative
division codes, issuing authorities and their document-number heads, firm-name parts, personal
names, violation facts and legal bases, award titles). Every string must be encodable as GBK,
because the landing writer exports some files in that encoding.

What does not: randomness, frames or any logic — `population` decides how often each word is
used, `landing` decides how it is spelled in a file.
"""

from __future__ import annotations

from typing import NamedTuple


class District(NamedTuple):
    """A Shanghai district: full name, GB/T 2260 code (USCC digits 3–8), document-number head."""

    name: str
    code: str
    head: str
    weight: float


DISTRICTS: tuple[District, ...] = (
    District("黄浦区", "310101", "黄", 5),
    District("徐汇区", "310104", "徐", 7),
    District("长宁区", "310105", "长", 5),
    District("静安区", "310106", "静", 6),
    District("普陀区", "310107", "普", 5),
    District("虹口区", "310109", "虹", 4),
    District("杨浦区", "310110", "杨", 5),
    District("闵行区", "310112", "闵", 9),
    District("宝山区", "310113", "宝", 7),
    District("嘉定区", "310114", "嘉", 7),
    District("浦东新区", "310115", "浦", 16),
    District("金山区", "310116", "金", 4),
    District("松江区", "310117", "松", 7),
    District("青浦区", "310118", "青", 5),
    District("奉贤区", "310120", "奉", 5),
    District("崇明区", "310151", "崇", 3),
)

CITY_AUTHORITY = "上海市国防动员办公室"
NATIONAL_AUTHORITY = "国家人民防空办公室"
PROVINCIAL_CIRCULAR_AUTHORITY = "上海市国防动员委员会"
PROVINCIAL_AWARD_AUTHORITY = "上海市人民政府"
ASSOCIATIONS: tuple[tuple[str, str], ...] = (
    ("上海市民防协会", "沪民防协"),
    ("上海市民防工程行业协会", "沪民防工协"),
)
CITY_INSPECTION_UNIT = "上海市民防监督管理事务中心"


def district_authority(district: str) -> str:
    """The district's civil-air-defence authority (区国防动员办公室)."""
    return f"{district}国防动员办公室"


def district_unit(district: str) -> str:
    """How a district-based inspector's unit is usually written (e.g. 浦东新区民防办)."""
    return f"{district}民防办"


FIRM_TYPES: tuple[str, ...] = (
    "design",
    "supervision",
    "protective_equipment",
    "drawing_review",
    "testing",
)
FIRM_TYPE_SHARE: tuple[float, ...] = (0.32, 0.28, 0.26, 0.08, 0.06)

# One suffix list per firm type; all suffixes differ, so 上海 + two-character brand + suffix is
# unique as long as (brand, suffix) pairs are.
NAME_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("人防工程设计有限公司", "建筑设计有限公司", "建筑设计研究院有限公司", "工程设计咨询有限公司"),
    ("建设监理咨询有限公司", "工程监理有限公司", "工程建设咨询有限公司", "项目管理咨询有限公司"),
    (
        "防护设备有限公司",
        "人防设备制造有限公司",
        "防护工程设备有限公司",
        "民防设备安装工程有限公司",
    ),
    ("施工图审查有限公司", "建设工程审图咨询有限公司", "人防施工图审查中心有限公司"),
    ("人防工程检测有限公司", "防护设备检测技术有限公司", "建设工程质量检测有限公司"),
)

BRAND_CHARS = (
    "申防华建安盛宏泰达信诚嘉恒通联中新鼎丰隆兴润德远博创卓越明正弘宇浩瑞祥和顺禾源盈科锦汇"
    "众鑫晨曦海天城江浦松金浙东南西北光辉腾飞凯捷永固坚强威立宝鸿祺佳美家乐康福晟昌茂广汇融"
    "同济复旦交大力行知勤慧智诺铭睿思哲文武英豪俊杰豫苏湘蜀黔滇桂闽赣皖冀晋辽吉龙港澳沪申城"
)

QUALIFICATIONS: tuple[tuple[str, ...], ...] = (
    ("人防工程设计甲级", "人防工程设计乙级", "人防工程设计丙级"),
    ("人防工程监理甲级", "人防工程监理乙级", "人防工程监理丙级"),
    ("防护设备生产安装甲级", "防护设备生产安装乙级"),
    ("人防施工图审查一类", "人防施工图审查二类"),
    ("防护设备检测甲级", "防护设备检测乙级"),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉鹏华飞鑫波宁斌琳建国晓红玉兰海燕俊峰雪梅志文"
    "佳怡嘉欣子涵浩然宇航思远振东立新卫东永胜秀英桂芳德明春生秋实冬青"
)

ROADS: tuple[str, ...] = (
    "中山南路",
    "漕溪北路",
    "延安西路",
    "南京西路",
    "曹杨路",
    "四平路",
    "黄兴路",
    "沪闵路",
    "牡丹江路",
    "嘉松北路",
    "张杨路",
    "世纪大道",
    "石化大道",
    "人民北路",
    "公园路",
    "南桥路",
    "八一路",
    "龙华中路",
    "虹桥路",
    "江场西路",
    "同济路",
    "浦星公路",
    "城中北路",
    "淞沪路",
)
PROJECT_KINDS: tuple[str, ...] = (
    "地块住宅项目",
    "商业综合体项目",
    "地下车库项目",
    "轨道交通配套项目",
    "学校扩建项目",
    "产业园项目",
)

VIOLATION_CATEGORIES: tuple[str, ...] = (
    "未按规定设计防空地下室",
    "擅自改变人防工程主体结构",
    "防护设备安装不符合要求",
    "生产销售不合格防护设备",
    "超越资质范围承接业务",
    "监理未履行职责",
    "提供虚假材料取得资质",
    "出借转让资质证书",
    "伪造检测报告或生产记录",
    "拒绝阻碍监督检查",
    "发生重大质量安全事故",
    "其他违反人防法规行为",
)
VETO_CATEGORIES: frozenset[str] = frozenset(
    {
        "生产销售不合格防护设备",
        "提供虚假材料取得资质",
        "出借转让资质证书",
        "伪造检测报告或生产记录",
        "拒绝阻碍监督检查",
        "发生重大质量安全事故",
    }
)
REFUSAL_CATEGORY = "拒绝阻碍监督检查"
BASEMENT_CATEGORY = "未按规定设计防空地下室"  # the one category fined under art. 48 (≤ 100,000)

# Relative weight of each category (columns, in VIOLATION_CATEGORIES order) per firm type (rows).
CATEGORY_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (30, 12, 2, 0, 10, 0, 2, 2, 0, 2, 1, 20),
    (0, 10, 8, 0, 10, 40, 2, 2, 0, 2, 1, 15),
    (0, 4, 40, 6, 6, 0, 2, 1, 3, 2, 1, 15),
    (10, 4, 0, 0, 12, 0, 2, 2, 2, 2, 0, 20),
    (0, 0, 6, 0, 12, 0, 2, 2, 8, 2, 0, 20),
)

CATEGORY_FACTS: dict[str, str] = {
    "未按规定设计防空地下室": "设计文件未按规定设置防空地下室，防护等级低于规划要求",
    "擅自改变人防工程主体结构": "擅自改变人防工程主体结构，拆除部分临空墙和防护密闭门框墙",
    "防护设备安装不符合要求": "防护密闭门安装偏差超出规范允许值，密闭胶条未按要求安装",
    "生产销售不合格防护设备": "生产销售的防护密闭门经抽样检测不合格，抗力等级不满足设计要求",
    "超越资质范围承接业务": "超越本单位资质等级许可范围承接人防工程业务",
    "监理未履行职责": "未按规定对人防工程隐蔽部位实施旁站监理，监理日志记录缺失",
    "提供虚假材料取得资质": "在资质申请中提供虚假业绩材料和人员证书",
    "出借转让资质证书": "允许其他单位以本单位名义承接人防工程业务",
    "伪造检测报告或生产记录": "伪造防护设备出厂检测报告和生产记录",
    "拒绝阻碍监督检查": "拒绝、阻碍人防主管部门工作人员依法实施监督检查",
    "发生重大质量安全事故": "承担的人防工程发生质量安全事故，造成较大经济损失",
    "其他违反人防法规行为": "未按规定报送人防工程竣工验收备案资料",
}

LAW = "《中华人民共和国人民防空法》"
CATEGORY_BASIS: dict[str, str] = {
    "未按规定设计防空地下室": f"{LAW}第四十八条",
    "擅自改变人防工程主体结构": f"{LAW}第四十九条第（三）项",
    "防护设备安装不符合要求": f"{LAW}第四十九条第（二）项",
    "生产销售不合格防护设备": f"{LAW}第四十九条第（二）项",
    "超越资质范围承接业务": f"{LAW}第四十九条第（二）项",
    "监理未履行职责": f"{LAW}第四十九条第（二）项",
    "提供虚假材料取得资质": f"{LAW}第四十九条第（二）项",
    "出借转让资质证书": f"{LAW}第四十九条第（二）项",
    "伪造检测报告或生产记录": f"{LAW}第四十九条第（二）项",
    "拒绝阻碍监督检查": f"{LAW}第四十九条",
    "发生重大质量安全事故": f"{LAW}第四十九条第（二）项",
    "其他违反人防法规行为": f"{LAW}第四十九条",
}
LOCAL_BASIS = "《上海市民防条例》第四十条"  # small fines (< 10,000) for minor cases

CONFLICT_REASONS: tuple[str, ...] = ("曾在该单位任职", "近亲属在该单位任职", "申报利害关系")

AWARD_TITLES: dict[str, tuple[str, ...]] = {
    "国家": ("全国人民防空先进单位", "全国人防工程优质工程奖"),
    "省": ("上海市人民防空工作先进集体",),
    "市": ("上海市人防工程优质工程奖", "人防工程建设先进单位"),
    "区": ("区人防工作先进单位", "区人防工程质量安全标准化示范单位"),
    "协会": ("年度诚信示范单位", "人防工程优质工程奖", "守合同重信用单位"),
}

OBJECTION_NOTES: dict[str, str] = {
    "维持": "经核查，信用记录与原文书一致，维持原记录",
    "更正": "经核查，记录信息有误，予以更正",
    "撤销": "经核查，原文书已依法撤销，撤销该信用记录",
}
REPAIR_NOTES: dict[str, str] = {
    "准予修复": "已履行行政处罚决定并完成整改，准予信用修复",
    "不予修复": "未提交履行完毕证明材料，不予信用修复",
    "未满期限": "未满最短公示期限，不予信用修复",
}
