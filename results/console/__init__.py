"""The chief judge's console, whole: the item's state (`state`: marks, findings, progress), the chief judge's
commands (`actions`: re-mark requests, locks, reopening, 裁定扣分), the page, its script and styles, the
websocket and the routes (`routes`), and the script's messages (`text`). It sits with results because the
console shows the provisional ranking; judging below it knows nothing of it."""
