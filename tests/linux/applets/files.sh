# mkdir, cp, mv, rm, rmdir and find in a shell script (each applet a process of its own)
mkdir -p work/a/b
cp fruit.txt work/a/
cp -r tree work/tree2
mv work/a/fruit.txt work/a/b/f.txt
ln -s b/f.txt work/a/link
cat work/a/link | wc -l
tr a-z A-Z <work/a/b/f.txt | head -n 2
find work | sort
rm work/a/b/f.txt work/a/link
rmdir work/a/b
rm -r work/tree2
find work | sort
rm -r work
test -e work || echo work is gone
