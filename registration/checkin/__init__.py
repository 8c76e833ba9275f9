"""Contest day at the door: check-in (检录), the seat draw (抽签) and the sealed blind numbering."""
