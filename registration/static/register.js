// The registration form works without this script (plain POST, errors from the server). It only helps:
// groups follow the item, team and employee fields show when they apply, the ID number is checked as
// typed (GB 11643 check character, birth date, age on the first contest day). ES5 for old WeChat builds.
(function () {
  "use strict";
  var form = document.getElementById("reg");
  if (!form) return;
  var items = JSON.parse(document.getElementById("items").textContent);
  var takes = JSON.parse((document.getElementById("identities") || {}).textContent || "{}");
  var start = form.getAttribute("data-start");
  var W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  function $(id) { return document.getElementById(id); }
  function each(sel, fn) { Array.prototype.forEach.call(form.querySelectorAll(sel), fn); }

  function say(name, msg) {
    var p = $("e-" + name), input = $(name);
    if (!p) return;
    p.textContent = msg || "";
    p.hidden = !msg;
    if (input) input.className = msg ? "err-in" : "";
  }

  function normalise(raw) {
    return raw.replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/[\s-]/g, "").toUpperCase();
  }

  // {error} or {birth, male, age}
  function checkId(raw) {
    var n = normalise(raw);
    if (!n) return {};
    if (!/^\d{17}[\dX]$/.test(n)) {
      return {error: n.length < 18 ? "还差 " + (18 - n.length) + " 位（共 18 位）" :
        (n.length > 18 ? "多了 " + (n.length - 18) + " 位（共 18 位）" : "前 17 位应为数字，末位为数字或 X")};
    }
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += W[i] * +n.charAt(i);
    if ("10X98765432".charAt(sum % 11) !== n.charAt(17)) return {error: "校验位不正确，请核对号码"};
    var y = +n.substr(6, 4), m = +n.substr(10, 2), d = +n.substr(12, 2);
    var b = new Date(y, m - 1, d);
    if (b.getFullYear() !== y || b.getMonth() !== m - 1 || b.getDate() !== d || y < 1900) {
      return {error: "号码中的出生日期无效"};
    }
    var on = start ? new Date(start + "T00:00:00") : new Date();
    var age = on.getFullYear() - y - ((on.getMonth() + 1 < m || (on.getMonth() + 1 === m && on.getDate() < d)) ? 1 : 0);
    return {birth: n.substr(6, 4) + "-" + n.substr(10, 2) + "-" + n.substr(12, 2), male: +n.charAt(16) % 2 === 1, age: age};
  }

  var touched = {};  // the server's message stays until the contestant edits the number

  function member(i) {
    var input = $("m" + i + "_id_number"), out = $("age-" + i);
    if (!input || !out) return {};
    var r = checkId(input.value);
    var typing = document.activeElement === input && normalise(input.value).length < 18;
    if (touched[input.id]) say(input.id, r.error && !typing ? r.error : "");
    out.hidden = !r.birth;
    if (r.birth) {
      out.textContent = "出生日期 " + r.birth + "，" + (r.male ? "男" : "女") + "，比赛首日 " + r.age + " 周岁" +
        (r.age < 16 ? "（未满 16 周岁，不能报名）" : "");
      out.className = r.age < 16 ? "ferr" : "hint ok";
    }
    return r;
  }

  function team() {
    var code = $("item").value;
    for (var i = 0; i < items.length; i++) if (items[i].code === code) return items[i];
    return null;
  }

  function refresh() {
    var it = team(), two = !!(it && it.team > 1), who = $("identity").value;
    var emp = !!who && who !== "student";  // 以职工身份参赛: employees, teachers, flexible workers (seed 002)
    var unit = $("unit"), unitLabel = form.querySelector("label[for=unit]");
    unit.required = who !== "flexible";  // 灵活就业人员可不填单位
    if (unitLabel) unitLabel.className = unit.required ? "req" : "";
    each(".team-only", function (el) { el.hidden = !two; });
    each("#member-1 input, #member-1 select", function (el) { el.disabled = !two; });
    each(".emp", function (el) { el.hidden = !emp; });
    each(".stu", function (el) { el.hidden = $("identity").value !== "student"; });
    for (var i = 0; i < 2; i++) {
      var r = member(i), fem = form.querySelector("#member-" + i + " .fem");
      if (fem) fem.hidden = !(emp && r.birth && !r.male);
    }
  }

  function fillGroups() {
    var it = team(), sel = $("group"), keep = sel.value;
    if (!it) return;
    var groups = it.groups.length ? it.groups : null;
    sel.innerHTML = "";
    sel.appendChild(new Option(groups ? "请选择" : "不分组", groups ? "" : "-"));
    (groups || []).forEach(function (g) { sel.appendChild(new Option(g, g)); });
    sel.value = keep;
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
  }

  $("item").addEventListener("change", function () { fillGroups(); fillIdentities(); refresh(); });
  // the identities the chosen group takes (the event says; 学生组 students, 职工组 the other three by default)
  var allIdentities = Array.prototype.map.call($("identity").options, function (o) { return [o.value, o.text]; });
  function fillIdentities() {
    var g = $("group").value, sel = $("identity"), keep = sel.value;
    var ok = takes[g === "-" ? "" : g] || takes[""];
    if (!ok) return;
    var offered = allIdentities.filter(function (o) { return !o[0] || ok.indexOf(o[0]) >= 0; });
    sel.innerHTML = "";
    offered.forEach(function (o) { sel.appendChild(new Option(o[1], o[0])); });
    sel.value = offered.length === 2 ? offered[1][0] : keep;  // one identity only: chosen for them
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
  }
  $("group").addEventListener("change", function () { fillIdentities(); refresh(); });
  $("identity").addEventListener("change", refresh);
  each("input[name$=_id_number]", function (el) {
    el.addEventListener("input", function () { touched[el.id] = true; refresh(); });
    el.addEventListener("blur", function () { touched[el.id] = true; refresh(); });
  });
  each("input[type=tel]", function (el) {
    el.addEventListener("blur", function () {
      var v = normalise(el.value).replace(/^(0086|86)(?=\d{11}$)/, "");
      say(el.id, v && !/^1[3-9]\d{9}$/.test(v) ? "请填写 11 位手机号码" : "");
    });
  });
  form.addEventListener("submit", function (ev) {
    var bad = null;
    for (var i = 0; i < 2; i++) {
      var input = $("m" + i + "_id_number");
      if (input && !input.disabled && input.value && checkId(input.value).error) {
        touched[input.id] = true;
        bad = bad || input;
      }
    }
    // what the event asks of every person (seed 002): a photo, the residence declaration
    each("input[data-required]", function (el) {
      if (!el.disabled && !el.value) { say(el.id, "本赛事要求上传参赛人员照片"); bad = bad || el; }
    });
    each("input[name$=_residence_declared]", function (el) {
      if (!el.disabled && !el.checked) { say(el.id, "请勾选本人声明"); bad = bad || el; }
    });
    if (!$("confirm").checked) {
      say("confirm", "请勾选确认：本人未重复报名、未以多重身份报名");
      bad = bad || $("confirm");
    }
    if (bad) {
      ev.preventDefault();
      refresh();
      bad.focus();
      bad.scrollIntoView({block: "center"});
    }
  });
  if ($("item").value) fillGroups();
  if ($("group").value) fillIdentities();
  refresh();
})();
