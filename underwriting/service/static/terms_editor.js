/* The terms editor's "Add a layer above" and "Remove layer n", done in the page.

   Without this script each of those buttons sends the form and the server shows it again with one
   layer more or less; the browser cannot be given back the files chosen in the form (submission,
   terms, posture schedule), so they would have to be chosen again. With it, the buttons change the
   page itself and nothing is sent: every value and every chosen file stays. The form the server gets
   is the one it would have rendered: layers 0..n-1 named t.layers.<i>.<field>, their count in the
   hidden t.layers. The blank layer is the server's own markup (<template id="layer_template">,
   numbered 99), so the two ways cannot drift apart. Served by the workbench from the package
   (the pages' Content-Security-Policy allows scripts from the server only). */
(function () {
  "use strict";
  var editor = document.getElementById("terms_editor");
  var template = document.getElementById("layer_template");
  var addButton = document.getElementById("add_layer");
  if (!editor || !template || !addButton || !("content" in template)) {
    return; // an older browser: the buttons send the form, as without JavaScript
  }
  var count = editor.querySelector('input[name="t.layers"]');
  var maxLayers = parseInt(editor.getAttribute("data-max-layers"), 10) || 10;
  var legendText = editor.getAttribute("data-layer-legend") || "Layer {n}";
  var lowestText = editor.getAttribute("data-lowest") || "";
  var removeText = editor.getAttribute("data-remove-layer") || "Remove layer {n}";
  // "t.layers.3.limit", "t_layers__3__limit", "t_layers__3_error", "remove:layers:3"
  var INDEX = /(layers(?:\.|__|:))\d+/g;
  var RENAMED = ["id", "name", "for", "aria-describedby"];

  function layers() {
    return Array.prototype.slice.call(editor.querySelectorAll("fieldset.layer"));
  }

  function renumber(fieldset, i, total) {
    fieldset.id = "layer_" + i;
    var nodes = fieldset.querySelectorAll("[id], [name], [for], [aria-describedby]");
    Array.prototype.forEach.call(nodes, function (el) {
      RENAMED.forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v !== null) {
          el.setAttribute(attr, v.replace(INDEX, "$1" + i));
        }
      });
    });
    var legend = fieldset.querySelector("legend");
    legend.textContent = legendText.replace("{n}", String(i + 1));
    if (i === 0 && lowestText) {
      var hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = lowestText;
      legend.appendChild(document.createTextNode(" "));
      legend.appendChild(hint);
    }
    var remove = fieldset.querySelector('button[name="action"]');
    if (remove) {
      remove.value = "remove:layers:" + i;
      remove.textContent = removeText.replace("{n}", String(i + 1));
      remove.hidden = total < 2;
    }
  }

  function refresh() {
    var all = layers();
    all.forEach(function (fieldset, i) { renumber(fieldset, i, all.length); });
    if (count) {
      count.value = String(all.length);
    }
    addButton.disabled = all.length >= maxLayers;
    return all;
  }

  function firstField(fieldset) {
    return fieldset.querySelector("input:not([type=hidden]), select");
  }

  function addLayer() {
    var all = layers();
    if (all.length >= maxLayers || all.length === 0) {
      return;
    }
    var fresh = template.content.querySelector("fieldset.layer").cloneNode(true);
    var last = all[all.length - 1];
    last.parentNode.insertBefore(fresh, last.nextSibling);
    refresh();
    var field = firstField(fresh);
    if (field) {
      field.focus();
    }
  }

  function removeLayer(i) {
    var all = layers();
    if (all.length < 2 || i < 0 || i >= all.length) {
      return;
    }
    all[i].parentNode.removeChild(all[i]);
    all = refresh();
    var field = firstField(all[Math.min(i, all.length - 1)]);
    if (field) {
      field.focus();
    }
  }

  editor.addEventListener("click", function (event) {
    var button = event.target.closest('button[name="action"]');
    if (!button || !editor.contains(button)) {
      return;
    }
    if (button.value === "add:layers") {
      event.preventDefault();
      addLayer();
      return;
    }
    var m = /^remove:layers:(\d+)$/.exec(button.value);
    if (m) {
      event.preventDefault();
      removeLayer(parseInt(m[1], 10));
    }
  });
  refresh();
}());
