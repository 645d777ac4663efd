// stockroom: the receive screen of an order. A scan (typed by a
// keyboard-wedge scanner, ended by Enter) fills the matching row in the
// page: lot, expiry, and the pack's units added to the quantity. Anything
// this script cannot settle for sure (an unknown code, a HIBCC label, a
// second lot needing a row of its own) goes to the server as without it.
(function () {
  "use strict";
  var form = document.getElementById("receive-form");
  var box = document.getElementById("code");
  if (!form || !box) {
    return;
  }
  var GS = "\u001d";
  // Fixed-length AIs this script knows; 10 (lot) and 21 (serial) are variable.
  var FIXED = { "00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6 };
  var VARIABLE = { "10": 20, "21": 20 };

  function elementString(text) {
    var out = {};
    var i = 0;
    while (i < text.length) {
      if (text[i] === GS) {
        i += 1;
        continue;
      }
      var ai = text.substr(i, 2);
      i += 2;
      if (FIXED[ai]) {
        var v = text.substr(i, FIXED[ai]);
        if (v.length !== FIXED[ai] || !/^\d+$/.test(v)) {
          return null;
        }
        out[ai] = v;
        i += FIXED[ai];
      } else if (VARIABLE[ai]) {
        var end = text.indexOf(GS, i);
        if (end < 0) {
          end = text.length;
        }
        var w = text.slice(i, end);
        if (w.length === 0 || w.length > VARIABLE[ai]) {
          return null;
        }
        out[ai] = w;
        i = end;
      } else {
        return null;
      }
    }
    return out;
  }

  function bracketed(text) {
    var out = {};
    var re = /\((\d{2})\)([^(]*)/g;
    var m;
    var seen = 0;
    while ((m = re.exec(text)) !== null) {
      if (!FIXED[m[1]] && !VARIABLE[m[1]]) {
        return null;
      }
      out[m[1]] = m[2];
      seen += m[0].length;
    }
    return seen === text.length ? out : null;
  }

  function checkDigitOk(gtin14) {
    var sum = 0;
    for (var k = 0; k < 13; k += 1) {
      sum += Number(gtin14[12 - k]) * (k % 2 === 0 ? 3 : 1);
    }
    return (10 - (sum % 10)) % 10 === Number(gtin14[13]);
  }

  function isoDate(yymmdd) {
    var yy = Number(yymmdd.slice(0, 2));
    var mm = Number(yymmdd.slice(2, 4));
    var dd = Number(yymmdd.slice(4, 6));
    if (dd === 0 || mm < 1 || mm > 12) {
      return null; // "the last day of the month": left to the server.
    }
    var now = new Date().getFullYear();
    var century = Math.floor(now / 100) * 100;
    var diff = yy - (now % 100);
    var year = century + yy;
    if (diff >= 51) {
      year -= 100;
    } else if (diff <= -50) {
      year += 100;
    }
    var d = new Date(Date.UTC(year, mm - 1, dd));
    if (d.getUTCMonth() !== mm - 1) {
      return null;
    }
    return year + "-" + String(mm).padStart(2, "0") + "-" + String(dd).padStart(2, "0");
  }

  // { gtin, lot, expiry } or null when this script should not decide.
  function parse(raw) {
    var text = raw.trim();
    var ais;
    if (/^\]([dCQe])\d/.test(text)) {
      ais = elementString(text.slice(3));
    } else if (text[0] === "(") {
      ais = bracketed(text);
    } else if (/^\d{8}$|^\d{12,14}$/.test(text)) {
      ais = { "01": text.padStart(14, "0") };
    } else {
      return null;
    }
    if (!ais || !ais["01"] || !checkDigitOk(ais["01"])) {
      return null;
    }
    var expiry = "";
    if (ais["17"]) {
      expiry = isoDate(ais["17"]);
      if (!expiry) {
        return null;
      }
    }
    return { gtin: ais["01"], lot: ais["10"] || "", expiry: expiry };
  }

  function unitsFor(row, gtin) {
    var codes = (row.getAttribute("data-codes") || "").split(/\s+/);
    for (var k = 0; k < codes.length; k += 1) {
      var pair = codes[k].split("=");
      if (pair[0] === gtin) {
        return Number(pair[1]);
      }
    }
    return 0;
  }

  function field(row, name) {
    return row.querySelector('[name="r' + row.getAttribute("data-row") + "_" + name + '"]');
  }

  function apply(scan) {
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-row]"));
    var mine = rows.filter(function (r) {
      return unitsFor(r, scan.gtin) > 0;
    });
    if (mine.length === 0) {
      return null;
    }
    var line = mine[0].getAttribute("data-line");
    mine = mine.filter(function (r) {
      return r.getAttribute("data-line") === line;
    });
    var target = null;
    if (scan.lot) {
      target = mine.find(function (r) {
        return field(r, "lot").value.trim().toUpperCase() === scan.lot.toUpperCase();
      });
    }
    if (!target) {
      target = mine.find(function (r) {
        return !scan.lot || field(r, "lot").value.trim() === "";
      });
    }
    if (!target) {
      return null; // A further lot: the server adds its row.
    }
    var quantity = field(target, "quantity");
    var had = quantity.value.trim() === "" ? 0 : Number(quantity.value);
    if (!Number.isInteger(had)) {
      return null;
    }
    var units = unitsFor(target, scan.gtin);
    quantity.value = String(had + units);
    if (scan.lot) {
      field(target, "lot").value = scan.lot;
    }
    if (scan.expiry) {
      field(target, "expiry").value = scan.expiry;
    }
    var name = target.querySelector("legend").textContent.trim();
    var said = name + ": +" + units;
    if (scan.lot) {
      said += ", lot " + scan.lot;
    }
    if (scan.expiry) {
      said += ", expiry " + scan.expiry;
    }
    return said;
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!submitter || submitter.value !== "scan" || submitter.name !== "action") {
      return;
    }
    var scan = parse(box.value);
    if (!scan) {
      return;
    }
    var said = apply(scan);
    if (!said) {
      return;
    }
    event.preventDefault();
    var status = document.getElementById("scan-status");
    if (status) {
      status.textContent = "Filled in: " + said;
    }
    box.value = "";
    box.removeAttribute("aria-invalid");
    box.focus();
  });
})();
