#!/usr/bin/env python3
"""Checks an X12 850 purchase order written by stockroom with pyx12, an X12
reader written independently of stockroom's own.

    check_850.py FILE

pyx12 reads the file with the separators its ISA header declares and checks
the envelope as it goes (ISA/IEA and GS/GE control numbers, the counts in
IEA01, GE01 and SE01); this script adds its own count of every segment, the
850's shape (BEG03, PO1 against CTT01) and the maximum lengths X12 004010
gives the free-text elements stockroom fills. It prints a JSON summary and
exits 1 when anything is wrong (2 when it was called wrongly).
"""

import json
import sys

import pyx12.errors
import pyx12.x12file

# Element: maximum length in X12 004010.
MAX_LENGTHS = {
    "BEG03": 22,
    "REF02": 30,
    "N102": 60,
    "N104": 80,
    "N301": 55,
    "N302": 55,
    "PER04": 80,
    "PER06": 80,
    "MSG01": 264,
    "PO107": 48,
    "PO109": 48,
    "PID05": 80,
}


def check(path):
    problems = []
    summary = {
        "interchanges": 0,
        "isa13": None,
        "iea01": None,
        "iea02": None,
        "groups": 0,
        "gs06": None,
        "ge01": None,
        "ge02": None,
        "transactions": 0,
        "st01": None,
        "st02": None,
        "se01": None,
        "se02": None,
        "segments_counted": 0,
        "po_number": None,
        "po1": 0,
        "ctt01": None,
        "separators": None,
        "problems": problems,
    }
    in_set = False
    try:
        with pyx12.x12file.X12Reader(path) as reader:
            seg_term, ele_term, subele_term, _eol, _rep = reader.get_term()
            summary["separators"] = {
                "element": ele_term,
                "component": subele_term,
                "segment": seg_term,
            }
            for seg in reader:
                problems.extend(e[2] for e in reader.pop_errors())
                sid = seg.get_seg_id()
                if sid == "ST":
                    in_set = True
                    summary["segments_counted"] = 0
                if in_set:
                    summary["segments_counted"] += 1
                if sid == "ISA":
                    summary["interchanges"] += 1
                    summary["isa13"] = seg.get_value("ISA13")
                    if seg.get_value("ISA12") != "00401":
                        problems.append("ISA12 is not 00401")
                elif sid == "IEA":
                    summary["iea01"] = seg.get_value("IEA01")
                    summary["iea02"] = seg.get_value("IEA02")
                elif sid == "GS":
                    summary["groups"] += 1
                    summary["gs06"] = seg.get_value("GS06")
                    if seg.get_value("GS01") != "PO" or seg.get_value("GS08") != "004010":
                        problems.append("GS is not a 004010 purchase order group (GS01 PO, GS08 004010)")
                elif sid == "GE":
                    summary["ge01"] = seg.get_value("GE01")
                    summary["ge02"] = seg.get_value("GE02")
                elif sid == "ST":
                    summary["transactions"] += 1
                    summary["st01"] = seg.get_value("ST01")
                    summary["st02"] = seg.get_value("ST02")
                elif sid == "SE":
                    in_set = False
                    summary["se01"] = seg.get_value("SE01")
                    summary["se02"] = seg.get_value("SE02")
                elif sid == "BEG":
                    summary["po_number"] = seg.get_value("BEG03")
                elif sid == "PO1":
                    summary["po1"] += 1
                elif sid == "CTT":
                    summary["ctt01"] = seg.get_value("CTT01")
                for n in range(1, len(seg) + 1):
                    ref = f"{sid}{n:02d}"
                    value = seg.get_value(ref) or ""
                    limit = MAX_LENGTHS.get(ref)
                    if limit is not None and len(value) > limit:
                        problems.append(f"{ref} is {len(value)} characters, more than {limit}")
            reader.cleanup()
            problems.extend(e[2] for e in reader.pop_errors())
    except (pyx12.errors.X12Error, OSError, UnicodeDecodeError) as e:
        problems.append(f"pyx12 cannot read the file: {e}")
        return summary

    def expect(what, ok):
        if not ok:
            problems.append(f"expected {what}")

    expect("exactly one interchange", summary["interchanges"] == 1)
    expect("IEA02 equals ISA13", summary["iea02"] is not None and summary["iea02"] == summary["isa13"])
    expect("IEA01 equals the number of groups", summary["iea01"] == str(summary["groups"]))
    expect("exactly one functional group", summary["groups"] == 1)
    expect("GE02 equals GS06", summary["ge02"] is not None and summary["ge02"] == summary["gs06"])
    expect("GE01 equals the number of transaction sets", summary["ge01"] == str(summary["transactions"]))
    expect("exactly one transaction set", summary["transactions"] == 1)
    expect("ST01 is 850", summary["st01"] == "850")
    expect("SE02 equals ST02", summary["se02"] is not None and summary["se02"] == summary["st02"])
    expect(
        "SE01 equals the segments from ST to SE",
        summary["se01"] == str(summary["segments_counted"]),
    )
    expect("BEG03 holds the order number", bool(summary["po_number"]))
    expect("CTT01 equals the number of PO1 segments", summary["ctt01"] == str(summary["po1"]))
    return summary


def main(argv):
    if len(argv) != 2:
        print("usage: check_850.py FILE", file=sys.stderr)
        return 2
    summary = check(argv[1])
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
